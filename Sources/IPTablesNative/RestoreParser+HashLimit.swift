import CIPTC

extension RestoreParser {
  /// `-m hashlimit`: `[!] --hashlimit-upto|--hashlimit-above RATE`, `--hashlimit-burst N`,
  /// `--hashlimit-mode srcip,srcport,dstip,dstport`, `--hashlimit-srcmask|-dstmask LEN`,
  /// `--hashlimit-name NAME`, `--hashlimit-htable-size|-max|-gcinterval|-expire N`,
  /// `--hashlimit-rate-match`, `--hashlimit-rate-interval N`.
  ///
  /// RATE is `N[/second|minute|hour|day]` (any prefix of the unit) or `N[k|m]b/s`. The defaults
  /// and the values derived from the options (expire, a byte burst in rate units) are those of
  /// libxt_hashlimit's revision 3.
  func hashlimit(_ options: [Option], _ place: Place) throws(IPTablesNativeError) -> IPTHashLimit {
    try once(options, "hashlimit", place)
    let hostBits: UInt8 = family == .ipv4 ? 32 : 128
    var limit = IPTHashLimit(
      name: "", mode: 0, average: 0, burst: 5, expire: 0, sourceMask: hostBits, destinationMask: hostBits)
    var multiplier: UInt64 = 1
    var given: Set<String> = []
    for option in options {
      let rate = ["--hashlimit-upto", "--hashlimit-above", "--hashlimit"].contains(option.name)
      if !rate { try plain(option, "hashlimit", place) }
      switch option.name {
      case _ where rate:
        guard !given.contains("rate") else { throw place.error("-m hashlimit takes one rate") }
        given.insert("rate")
        if (option.name == "--hashlimit-above") != option.negated { limit.mode |= UInt32(XT_HASHLIMIT_INVERT) }
        if let cost = try byteCost(option, place) {
          limit.mode |= UInt32(XT_HASHLIMIT_BYTES)
          limit.average = cost
          multiplier = 15  // XT_HASHLIMIT_BYTE_EXPIRE seconds
        } else {
          (limit.average, multiplier) = try packetRate(option, place)
        }
      case "--hashlimit-burst":
        limit.burst = try hashlimitBurst(option, place)
        given.insert("burst")
      case "--hashlimit-mode":
        for field in option.argument.split(whereSeparator: { $0 == "," || $0 == "|" }) {
          guard let bit = IPTConstants.hashlimitFields.first(where: { $0.0 == field })?.1 else {
            throw place.error("bad --hashlimit-mode \(option.argument)")
          }
          limit.mode |= bit
        }
      case "--hashlimit-srcmask":
        limit.sourceMask = UInt8(try unsigned(option, 0...UInt32(hostBits), place))
      case "--hashlimit-dstmask":
        limit.destinationMask = UInt8(try unsigned(option, 0...UInt32(hostBits), place))
      case "--hashlimit-name":
        let name = try fixedString(option, size: 255, place)
        guard !name.contains(where: { $0 == "/" || $0 == "\"" || $0 == "'" || $0 == "\\" || $0.isWhitespace }) else {
          throw place.error("bad --hashlimit-name \(name)")
        }
        limit.name = name
      case "--hashlimit-htable-size": limit.size = try unsigned(option, 0...UInt32.max, place)
      case "--hashlimit-htable-max": limit.max = try unsigned(option, 0...UInt32.max, place)
      case "--hashlimit-htable-gcinterval": limit.gcInterval = try unsigned(option, 0...UInt32.max, place)
      case "--hashlimit-htable-expire":
        limit.expire = try unsigned(option, 0...UInt32.max, place)
        given.insert("expire")
      case "--hashlimit-rate-match": limit.mode |= UInt32(XT_HASHLIMIT_RATE_MATCH)
      case "--hashlimit-rate-interval":
        guard let seconds = UInt32(option.argument), seconds > 0, seconds <= Int32.max else {
          throw place.error("bad --hashlimit-rate-interval \(option.argument)")
        }
        limit.interval = seconds
      default:
        throw unknown(option, "hashlimit", place)
      }
    }
    guard given.contains("rate") else { throw place.error("-m hashlimit needs --hashlimit-upto or --hashlimit-above") }
    guard !limit.name.isEmpty else { throw place.error("-m hashlimit needs --hashlimit-name") }
    // The derived values, in libxt_hashlimit's final check order.
    if !given.contains("expire") { limit.expire = UInt32(multiplier * 1000) }
    let bytes = limit.mode & UInt32(XT_HASHLIMIT_BYTES) != 0
    if bytes {
      var burst: UInt64 = 0
      if given.contains("burst") {
        let unit = IPTHashLimit.bytes(cost: limit.average)
        guard limit.burst >= unit else { throw place.error("--hashlimit-burst below \(unit)b") }
        burst = (limit.burst + unit - 1) / unit
        if !given.contains("expire") { limit.expire = 60 * 1000 }  // XT_HASHLIMIT_BYTE_EXPIRE_BURST
      }
      limit.burst = burst
    } else if limit.burst > 1_000_000 {
      throw place.error("bad --hashlimit-burst \(limit.burst) (1…1000000)")
    }
    if limit.mode & UInt32(XT_HASHLIMIT_RATE_MATCH) != 0 {
      if !bytes { limit.average /= multiplier }
      if limit.interval == 0 { limit.interval = bytes ? 1 : UInt32(multiplier) }
    }
    return limit
  }

  /// `N[/unit]` as `XT_HASHLIMIT_SCALE_v2` × seconds per packet, with the unit's seconds.
  func packetRate(_ option: Option, _ place: Place) throws(IPTablesNativeError) -> (UInt64, UInt64) {
    let parts = option.argument.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
    var seconds: UInt64 = 1
    if parts.count == 2 {
      let unit = parts[1].lowercased()
      guard !unit.isEmpty,
        let match = [("second", 1), ("minute", 60), ("hour", 3600), ("day", 86400)].first(where: {
          $0.0.hasPrefix(unit)
        })
      else { throw place.error("bad rate \(option.argument)") }
      seconds = UInt64(match.1)
    }
    guard let count = UInt64(parts[0]), count > 0 else { throw place.error("bad rate \(option.argument)") }
    let average = 1_000_000 * seconds / count
    guard average > 0 else { throw place.error("rate too fast: \(option.argument)") }
    return (average, seconds)
  }

  /// `N[k|m]b/s` as the byte cost the kernel takes; nil for a packet rate.
  func byteCost(_ option: Option, _ place: Place) throws(IPTablesNativeError) -> UInt64? {
    let text = option.argument
    guard text.hasSuffix("b/s") else { return nil }
    var digits = text.dropLast(3)
    var factor: UInt64 = 1
    if let unit = digits.last, unit == "k" || unit == "m" {
      factor = unit == "k" ? 1024 : 1024 * 1024
      digits = digits.dropLast()
    }
    guard let count = UInt64(digits), count > 0 else { throw place.error("bad rate \(text)") }
    let (bytes, overflow) = count.multipliedReportingOverflow(by: factor)
    guard !overflow else { throw place.error("rate too large: \(text)") }
    let cost = IPTHashLimit.cost(bytes: bytes)
    guard cost > 0 else { throw place.error("rate too high: \(text)") }
    return cost
  }

  /// `N` packets, or `N[k|m][b]` bytes for a byte rate.
  func hashlimitBurst(_ option: Option, _ place: Place) throws(IPTablesNativeError) -> UInt64 {
    var digits = Substring(option.argument)
    if digits.last == "b" { digits = digits.dropLast() }
    var factor: UInt64 = 1
    if let unit = digits.last, unit == "k" || unit == "m" {
      factor = unit == "k" ? 1024 : 1024 * 1024
      digits = digits.dropLast()
    }
    guard let count = UInt64(digits), count > 0, case let (burst, false) = count.multipliedReportingOverflow(by: factor)
    else { throw place.error("bad --hashlimit-burst \(option.argument)") }
    return burst
  }
}

extension IPTHashLimit {
  /// libxt_hashlimit's `bytes_to_cost`: the kernel's cost of a byte rate.
  static func cost(bytes: UInt64) -> UInt64 {
    UInt64(UInt32.max) / ((bytes >> UInt64(XT_HASHLIMIT_BYTE_SHIFT)) + 1)
  }

  /// libxt_hashlimit's `cost_to_bytes`.
  static func bytes(cost: UInt64) -> UInt64 {
    let r = cost == 0 ? UInt64(UInt32.max) : UInt64(UInt32.max) / cost
    return (r &- 1) << UInt64(XT_HASHLIMIT_BYTE_SHIFT)
  }
}
