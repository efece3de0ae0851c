/**
 * Typed configuration fields. Each module declares its slice (an object of fields) next to
 * itself; `config.ts` assembles the slices, reads the environment once, checks every value
 * and freezes the result. The README's environment table is generated from the same fields.
 */
export interface Field<T> {
  env: string;
  description: string;
  default: T;
  example?: string;
  /** Never echoed in errors or logs (API keys, passwords). */
  secret?: boolean;
  /** How a bad value is echoed in errors, when part of it may be a secret (URL credentials). */
  redact?: (raw: string) => string;
  parse(raw: string): T;
  /** The default as a user would type it, for the docs. */
  show(value: T): string;
}

export type Slice = Record<string, Field<unknown>>;
export type Infer<S extends Slice> = { readonly [K in keyof S]: S[K] extends Field<infer T> ? T : never };

type Base = { env: string; description: string; example?: string; secret?: boolean; redact?: (raw: string) => string };

/** A URL with its user-info (`user:password@`) and query replaced, for error messages. */
export function redactUrlCredentials(raw: string): string {
  return raw.replace(/^([A-Za-z][A-Za-z0-9+.-]*:\/\/)[^/?#]*@/, '$1(credentials)@').replace(/\?.*$/s, '?(query)');
}

export function str(o: Base & { default: string; pattern?: RegExp; allowEmpty?: boolean }): Field<string> {
  return {
    ...o,
    parse(raw) {
      const v = raw.trim();
      if (!o.allowEmpty && v === '') throw new Error('must not be empty');
      if (o.pattern && !o.pattern.test(v)) throw new Error(`must match ${o.pattern}`);
      return v;
    },
    show: (v) => v,
  };
}

export function optionalStr(o: Base & { pattern?: RegExp }): Field<string | undefined> {
  return {
    ...o,
    default: undefined,
    parse(raw) {
      const v = raw.trim();
      if (v === '') return undefined;
      if (o.pattern && !o.pattern.test(v)) throw new Error(`must match ${o.pattern}`);
      return v;
    },
    show: (v) => v ?? '(unset)',
  };
}

export function int(o: Base & { default: number; min: number; max: number }): Field<number> {
  return {
    ...o,
    parse(raw) {
      const v = raw.trim().replace(/_/g, '');
      if (!/^-?\d+$/.test(v)) throw new Error(`must be a whole number from ${o.min} to ${o.max}`);
      const n = Number(v);
      if (n < o.min || n > o.max) throw new Error(`must be from ${o.min} to ${o.max}`);
      return n;
    },
    show: (v) => String(v),
  };
}

export function bool(o: Base & { default: boolean }): Field<boolean> {
  return {
    ...o,
    parse(raw) {
      const v = raw.trim().toLowerCase();
      if (['1', 'true', 'yes', 'on'].includes(v)) return true;
      if (['0', 'false', 'no', 'off'].includes(v)) return false;
      throw new Error('must be true or false');
    },
    show: (v) => String(v),
  };
}

export function oneOf<const T extends string>(o: Base & { default: T; values: readonly T[] }): Field<T> {
  return {
    ...o,
    parse(raw) {
      const v = raw.trim().toLowerCase() as T;
      if (!o.values.includes(v)) throw new Error(`must be one of ${o.values.join(', ')}`);
      return v;
    },
    show: (v) => v,
  };
}

export function list(o: Base & { default: string[]; item?: RegExp }): Field<string[]> {
  return {
    ...o,
    parse(raw) {
      const items = raw
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      for (const it of items) if (o.item && !o.item.test(it)) throw new Error(`item "${it}" must match ${o.item}`);
      return items;
    },
    show: (v) => v.join(','),
  };
}

export interface Duration {
  /** As the user wrote it, e.g. "10m"; names the retry topic. */
  label: string;
  ms: number;
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** A comma-separated list of durations such as `30s,10m,1h`, in increasing order. */
export function durations(o: Base & { default: Duration[]; max: number }): Field<Duration[]> {
  return {
    ...o,
    parse(raw) {
      const out: Duration[] = [];
      for (const item of raw
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)) {
        const m = /^(\d+)(ms|s|m|h)$/.exec(item);
        if (!m) throw new Error(`"${item}" is not a duration like 500ms, 30s, 10m or 1h`);
        const ms = Number(m[1]) * UNIT_MS[m[2]!]!;
        if (ms <= 0) throw new Error(`"${item}" must be longer than zero`);
        if (out.length > 0 && ms <= out[out.length - 1]!.ms) throw new Error('durations must increase');
        out.push({ label: item, ms });
      }
      if (out.length > o.max) throw new Error(`at most ${o.max} durations`);
      return out;
    },
    show: (v) => v.map((d) => d.label).join(','),
  };
}
