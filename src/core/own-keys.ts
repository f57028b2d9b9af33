// Keys that users name (parameters, hosts, actors, profile targets, report paths) are looked up as own
// properties only: `key in obj` and `obj[key]` also find what every object inherits, so `constructor`,
// `toString` or `hasOwnProperty` passed validation, and an assignment to `__proto__` vanished silently.

/** A name every object inherits (constructor, toString, valueOf, __proto__, __defineGetter__, ...). */
export function isInheritedName(key: string): boolean {
  return key in Object.prototype;
}

/** obj[key] when obj holds it itself, else undefined. */
export function ownValue<T>(obj: Readonly<Record<string, T>> | undefined, key: string): T | undefined {
  return obj !== undefined && Object.hasOwn(obj, key) ? obj[key] : undefined;
}
