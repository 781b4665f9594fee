import Foundation

extension RestoreParser {
  /// `0x10` or `0x100/0xff00` (any base `strtoul` reads).
  func markValue(_ text: String, _ place: Place) throws(IPTablesNativeError) -> IPTMarkValue {
    let parts = text.split(separator: "/", omittingEmptySubsequences: false)
    guard parts.count <= 2, let value = number(String(parts[0])) else { throw place.error("bad mark \(text)") }
    guard parts.count == 2 else { return IPTMarkValue(value: value) }
    guard let mask = number(String(parts[1])) else { throw place.error("bad mark mask \(text)") }
    return IPTMarkValue(value: value, mask: mask)
  }

  /// A 32-bit number as `strtoul` with base 0 reads it (the way xtables reads numbers): `0x1f`,
  /// `017` (octal), `15`.
  func number(_ text: String) -> UInt32? {
    number64(text).flatMap { UInt32(exactly: $0) }
  }

  /// As `number`, 64 bits wide.
  func number64(_ text: String) -> UInt64? {
    if text.hasPrefix("0x") || text.hasPrefix("0X") { return UInt64(text.dropFirst(2), radix: 16) }
    if text.count > 1 && text.hasPrefix("0") { return UInt64(text.dropFirst(), radix: 8) }
    return UInt64(text)
  }

  /// The number an option takes, within `range` (as xtables checks `.min`/`.max`).
  func unsigned(_ option: Option, _ range: ClosedRange<UInt32>, _ place: Place) throws(IPTablesNativeError) -> UInt32 {
    guard let value = number(option.argument), range.contains(value) else {
      throw place.error("bad \(option.name) \(option.argument) (\(range.lowerBound)…\(range.upperBound))")
    }
    return value
  }

  /// `A`, `A:B`, `:B` (from 0), `A:` (to `max`), as xtables reads an unsigned range.
  func range(_ text: String, max: UInt32, what: String, _ place: Place) throws(IPTablesNativeError)
    -> ClosedRange<UInt32>
  {
    let parts = text.split(separator: ":", omittingEmptySubsequences: false)
    guard parts.count <= 2, let first = parts[0].isEmpty && parts.count == 2 ? 0 : number(String(parts[0])),
      first <= max
    else { throw place.error("bad \(what) \(text)") }
    guard parts.count == 2 else { return first...first }
    guard let last = parts[1].isEmpty ? max : number(String(parts[1])), last <= max, first <= last else {
      throw place.error("bad \(what) range \(text)")
    }
    return first...last
  }

  /// Rejects a `!` before an option that cannot be negated.
  func plain(_ option: Option, _ module: String, _ place: Place) throws(IPTablesNativeError) {
    if option.negated { throw place.error("\(option.name) of \(module) cannot be negated") }
  }

  /// Rejects an option given twice.
  func once(_ options: [Option], _ module: String, _ place: Place) throws(IPTablesNativeError) {
    guard options.count > 1 else { return }  // the common case, without a set per rule
    var seen: Set<String> = []
    for option in options where !seen.insert(option.name).inserted {
      throw place.error("\(option.name) of \(module) given twice")
    }
  }

  /// Text a kernel structure holds in `size` bytes with its NUL.
  func fixedString(_ option: Option, size: Int, _ place: Place) throws(IPTablesNativeError) -> String {
    guard !option.argument.isEmpty, option.argument.utf8.count < size, !option.argument.contains("\n") else {
      throw place.error("\(option.name) must be 1 to \(size - 1) bytes without newlines")
    }
    return option.argument
  }
}
