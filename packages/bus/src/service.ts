/** registerService: the process answers `$SRV.PING`, `$SRV.INFO` and `$SRV.STATS` as a NATS micro service. */
import { Svcm, type Endpoint, type Service, type ServiceInfo, type ServiceStats } from '@nats-io/services';
import type { Bus } from './connect.js';
import { BUS_ERROR, BusError } from './errors.js';

export interface RegisterServiceOptions {
  /** Service name: letters, digits, `-` and `_`. */
  name: string;
  /** Semantic version, e.g. `0.1.0`. */
  version: string;
  description: string;
  metadata?: Record<string, string>;
  /** Extra data for each endpoint in `$SRV.STATS`. */
  statsHandler?: (endpoint: Endpoint) => Promise<unknown>;
}

export interface ServiceHandle {
  readonly service: Service;
  readonly id: string;
  info(): ServiceInfo;
  stats(): Promise<ServiceStats>;
  /** Stops answering; idempotent. */
  stop(): Promise<void>;
}

const NAME = /^[A-Za-z0-9_-]+$/;
const SEMVER = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/;

export async function registerService(bus: Pick<Bus, 'nc'>, o: RegisterServiceOptions): Promise<ServiceHandle> {
  if (!NAME.test(o.name)) throw new BusError(BUS_ERROR.service, `invalid service name ${JSON.stringify(o.name)}`);
  if (!SEMVER.test(o.version)) throw new BusError(BUS_ERROR.service, `invalid service version ${JSON.stringify(o.version)}`);
  const config: Parameters<Svcm['add']>[0] = { name: o.name, version: o.version, description: o.description };
  if (o.metadata !== undefined) config.metadata = { ...o.metadata };
  if (o.statsHandler !== undefined) config.statsHandler = o.statsHandler;
  const service = await new Svcm(bus.nc).add(config);
  let stopping: Promise<void> | undefined;
  return {
    service,
    get id() {
      return service.info().id;
    },
    info: () => service.info(),
    stats: () => service.stats(),
    stop() {
      stopping ??= service.stop().then(() => undefined);
      return stopping;
    },
  };
}
