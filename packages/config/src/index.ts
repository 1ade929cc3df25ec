/** @sipnats/config: the only reader of process.env. Validated, deep-frozen configuration. */
export { ConfigError } from './errors.js';
export { setting, type Setting, type SettingKind, type Parsed } from './setting.js';
export {
  loadConfig,
  describeSettings,
  formatSettingsHelp,
  isSetting,
  type SettingsSpec,
  type ConfigOf,
  type DeepReadonly,
  type Env,
  type LoadOptions,
  type SettingInfo,
} from './load.js';
export { loadConfigOrExit, CONFIG_EXIT_CODE } from './exit.js';
export {
  commonSettings,
  natsSettings,
  natsChecks,
  parseHostPort,
  defaultInstanceId,
  LOG_LEVELS,
  type LogLevel,
  ENVIRONMENTS,
  type Environment,
  PREFIX_PATTERN,
  INSTANCE_ID_PATTERN,
  HOST_PORT_PATTERN,
} from './common.js';
