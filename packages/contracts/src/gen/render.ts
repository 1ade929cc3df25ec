/**
 * Renders proto/: one JSON Schema (2020-12) per payload and the C header sipnats.h, all from the
 * declarations of this package. Pure: returns file names and contents; main.ts writes them.
 */
import type { TSchema } from '@sinclair/typebox';
import { DEFAULT_PREFIX, ENVELOPE_VERSION, QUEUE, RAW_HEADERS, SIP_HEADER_CALL, SUBJECT_PARTS, TRANSPORTS } from '../constants.js';
import { CALL_ACTIONS } from '../schemas/call-command.js';
import { CALL_DIRECTIONS, CALL_EVENTS } from '../schemas/call-event.js';
import { CHANNEL_EVENTS } from '../schemas/channel-event.js';
import { REPLY_CODES } from '../schemas/command-reply.js';
import { PAYLOAD_SCHEMAS } from '../schemas/index.js';
import { FLOW_CLOSE_REASONS, FLOW_EVENTS } from '../schemas/flow-event.js';
import { REG_EVENTS } from '../schemas/reg-event.js';

export interface ProtoFile {
  /** File name inside proto/. */
  name: string;
  content: string;
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Moves every nested schema with an `$id` into `$defs` and refers to it, so each file stands alone. */
function extractDefs(node: Json, defs: Record<string, Json>, isRoot: boolean): Json {
  if (Array.isArray(node)) return node.map((n) => extractDefs(n, defs, false));
  if (node === null || typeof node !== 'object') return node;
  const out: { [k: string]: Json } = {};
  for (const [k, v] of Object.entries(node)) {
    if (k === '$id' && !isRoot) continue;
    // Keys of `properties` / `patternProperties` / `$defs` are names, not schemas.
    if ((k === 'properties' || k === 'patternProperties') && v !== null && typeof v === 'object' && !Array.isArray(v)) {
      const props: { [k: string]: Json } = {};
      for (const [pk, pv] of Object.entries(v)) props[pk] = extractDefs(pv, defs, false);
      out[k] = props;
      continue;
    }
    out[k] = extractDefs(v, defs, false);
  }
  const id = node['$id'];
  if (!isRoot && typeof id === 'string') {
    if (defs[id] === undefined) defs[id] = out;
    return { $ref: `#/$defs/${id}` };
  }
  return out;
}

export function renderJsonSchema(name: string, schema: TSchema): string {
  const plain = JSON.parse(JSON.stringify(schema)) as { [k: string]: Json };
  const defs: Record<string, Json> = {};
  const body = extractDefs(plain, defs, true) as { [k: string]: Json };
  delete body['$id'];
  const sortedDefs: { [k: string]: Json } = {};
  for (const k of Object.keys(defs).sort()) sortedDefs[k] = defs[k] ?? null;
  const doc: { [k: string]: Json } = {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: `${name}.schema.json`,
    title: name,
    ...body,
  };
  if (Object.keys(sortedDefs).length > 0) doc['$defs'] = sortedDefs;
  return `${JSON.stringify(doc, null, 2)}\n`;
}

function macroName(s: string): string {
  return s.toUpperCase().replace(/[^A-Z0-9]+/g, '_');
}

function cString(s: string): string {
  if (!/^[\x20-\x7e]*$/.test(s)) throw new Error(`not printable ASCII: ${JSON.stringify(s)}`);
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

export function renderHeader(): string {
  const lines: string[] = [];
  const define = (name: string, value: string, comment?: string): void => {
    lines.push(`#define ${name.padEnd(40)} ${value}${comment === undefined ? '' : ` /* ${comment} */`}`);
  };
  const section = (title: string): void => {
    lines.push('', `/* ${title} */`);
  };

  section('Envelope version: the value of "v" in every JSON payload.');
  define('SIPNATS_ENVELOPE_VERSION', String(ENVELOPE_VERSION));

  section('Subjects: "<prefix>.<part>[.<encoded token>]". Tokens are encoded (see proto/README.md).');
  define('SIPNATS_DEFAULT_PREFIX', cString(DEFAULT_PREFIX));
  const parts: Array<[string, keyof typeof SUBJECT_PARTS, string]> = [
    ['SIPNATS_SUBJ_RAW_IN', 'rawIn', '<p>.raw.in.<instance>: raw inbound SIP, metadata in headers'],
    ['SIPNATS_SUBJ_RAW_OUT', 'rawOut', '<p>.raw.out.<instance>: raw outbound SIP'],
    ['SIPNATS_SUBJ_REQ', 'req', '<p>.req.<METHOD>: RequestEnvelope, queue "ua"'],
    ['SIPNATS_SUBJ_OUT', 'out', '<p>.out.<instance> or <p>.out: OutMessage'],
    ['SIPNATS_SUBJ_FWD', 'fwd', '<p>.fwd.<instance>: ForwardedMessage'],
    ['SIPNATS_SUBJ_EVT_CALL', 'evtCall', '<p>.evt.call.<event>: CallEvent'],
    ['SIPNATS_SUBJ_EVT_REG', 'evtReg', '<p>.evt.reg.<event>: RegEvent'],
    ['SIPNATS_SUBJ_EVT_CHANNEL', 'evtChannel', '<p>.evt.channel.<event>: ChannelEvent'],
    ['SIPNATS_SUBJ_EVT_FLOW', 'evtFlow', '<p>.evt.flow.<event>: FlowEvent, queue "ua"'],
    ['SIPNATS_SUBJ_CMD_CALL', 'cmdCall', '<p>.cmd.call.<action>: CallCommand -> CommandReply'],
  ];
  for (const [name, key, comment] of parts) define(name, cString(SUBJECT_PARTS[key]), comment);

  section('Queue groups.');
  define('SIPNATS_QUEUE_UA', cString(QUEUE.ua));
  define('SIPNATS_QUEUE_TRANSPORT', cString(QUEUE.transport));

  section('NATS headers of raw.* and fwd.* messages.');
  for (const [key, value] of Object.entries(RAW_HEADERS)) define(`SIPNATS_HDR_${macroName(key)}`, cString(value));

  section('SIP header carrying the sipnats call id.');
  define('SIPNATS_SIP_HDR_CALL', cString(SIP_HEADER_CALL));

  section('SIP transports (FlowRef.transport, Sipnats-Transport).');
  for (const t of TRANSPORTS) define(`SIPNATS_TRANSPORT_${macroName(t)}`, cString(t));

  section('Call events (last token of <p>.evt.call.<event>, CallEvent.event).');
  for (const e of CALL_EVENTS) define(`SIPNATS_CALL_EVT_${macroName(e)}`, cString(e));

  section('Registration events (last token of <p>.evt.reg.<event>, RegEvent.event).');
  for (const e of REG_EVENTS) define(`SIPNATS_REG_EVT_${macroName(e)}`, cString(e));

  section('Channel events (last token of <p>.evt.channel.<event>, ChannelEvent.event).');
  for (const e of CHANNEL_EVENTS) define(`SIPNATS_CHANNEL_EVT_${macroName(e)}`, cString(e));

  section('Directions (CallEvent.direction, ChannelEvent.direction).');
  for (const d of CALL_DIRECTIONS) define(`SIPNATS_DIRECTION_${macroName(d)}`, cString(d));
  section('Flow events (last token of <p>.evt.flow.<event>, FlowEvent.event) and close reasons (FlowEvent.reason).');
  for (const e of FLOW_EVENTS) define(`SIPNATS_FLOW_EVT_${macroName(e)}`, cString(e));
  for (const r of FLOW_CLOSE_REASONS) define(`SIPNATS_FLOW_CLOSE_${macroName(r)}`, cString(r));

  section('Call command actions (last token of <p>.cmd.call.<action>, CallCommand.action).');
  for (const a of CALL_ACTIONS) define(`SIPNATS_CALL_CMD_${macroName(a)}`, cString(a));

  section('CommandReply.code values.');
  for (const c of REPLY_CODES) define(`SIPNATS_REPLY_CODE_${macroName(c)}`, cString(c));

  return [
    '/*',
    ' * sipnats.h: the sipnats wire contract for C (subjects, headers, event and command names).',
    ' * GENERATED from packages/contracts by `pnpm gen:proto`; do not edit. See proto/README.md.',
    ' */',
    '#ifndef SIPNATS_PROTO_H',
    '#define SIPNATS_PROTO_H',
    ...lines,
    '',
    '#endif /* SIPNATS_PROTO_H */',
    '',
  ].join('\n');
}

/** Every generated file of proto/ (README.md is written by hand). */
export function renderProto(): ProtoFile[] {
  const files: ProtoFile[] = Object.entries(PAYLOAD_SCHEMAS).map(([name, schema]) => ({
    name: `${name}.schema.json`,
    content: renderJsonSchema(name, schema),
  }));
  files.push({ name: 'sipnats.h', content: renderHeader() });
  return files;
}

/** True for a file of proto/ that the generator owns. */
export function isGeneratedProtoFile(name: string): boolean {
  return name.endsWith('.schema.json') || name === 'sipnats.h';
}
