import NetfilterModel

/// The parts of a rule that start with a keyword: verdicts, `counter`, `log`, `limit`, NAT,
/// `reject`, and the statements the model lacks (kept as they are written).
extension NFTRuleReader {
  mutating func readPart() throws -> Part {
    guard let t = peek, t.kind == .word else { throw fail("a match, statement or verdict") }
    switch t.text {
    case "accept", "drop", "continue", "return":
      pos += 1
      let verdicts: [String: Verdict] = ["accept": .accept, "drop": .drop, "continue": .continue, "return": .return]
      return part(.verdict(verdicts[t.text]!))
    case "jump", "goto":
      pos += 1
      let name = try expectName("a chain name after '\(t.text)'")
      references.append((name.text, name.location))
      return part(.verdict(t.text == "jump" ? .jump(chain: name.text) : .goto(chain: name.text)))
    case "reject": return try readReject()
    case "counter": return try readCounter()
    case "log": return try readLog()
    case "limit": return try readLimit()
    case "quota":
      try readQuota()
      return part(.action(inert: false))
    case "snat", "dnat": return try readNAT()
    case "masquerade", "redirect": return try readMasquerade()
    case "notrack":
      pos += 1
      return part(.action(inert: true))
    case "flow":
      pos += 1
      if peekWord("add") || peekWord("offload") {
        pos += 1
        let name = try expectWord("a flowtable '@name'")
        guard name.text.hasPrefix("@") else { throw Diagnostic.error("expected '@flowtable'", at: name.location) }
        return part(.action(inert: true))
      }
      // `flow table NAME { … }`, the old form of `meter`.
      _ = try expectWord("'add', 'offload' or 'table'")
      _ = try expectName("a meter name")
      try skipBraces()
      return part(.action(inert: false))
    case "meter":
      pos += 1
      _ = try expectName("a meter name")
      if peekWord("size") {
        pos += 2
      }
      try skipBraces()
      return part(.action(inert: false))
    case "add", "update",
      "delete" where peek(1).map({ $0.kind == .word && $0.text.hasPrefix("@") }) == true:
      pos += 2
      try skipBraces()
      return part(.action(inert: false))
    case "dup":
      pos += 1
      if peekWord("to") { pos += 1 }
      try readGenericExpression()
      if peekWord("device") {
        pos += 1
        _ = try expectName("a device name")
      }
      return part(.action(inert: true))
    case "tproxy":
      pos += 1
      if peekWord("ip") || peekWord("ip6") { pos += 1 }
      if peekWord("to") { pos += 1 }
      _ = try expectWord("an address or ':port'")
      return part(.action(inert: false))
    case "xt":
      pos += 1
      _ = try expectWord("match, target or watcher")
      _ = try expectName("a name")
      return part(.action(inert: false))
    case "last":
      pos += 1
      if peekWord("used") {
        pos += 1
        _ = try expectWord("'never' or a time")
      }
      return part(.action(inert: true))
    case "queue", "fwd", "synproxy":
      pos += 1
      skipToEnd()
      return part(.opaqueVerdict)
    case "ct" where peek(1)?.isWord("count") == true:
      pos += 2
      if peekWord("over") { pos += 1 }
      _ = try expectWord("a connection count")
      return part(.opaqueMatch(pure: false))
    default:
      return try readExpression()
    }
  }

  /// A part whose range and location `read` fills in.
  func part(_ kind: Part.Kind) -> Part { Part(kind: kind, range: 0..<0, location: location) }

  /// Moves to the end of the rule or its `comment`, over braces and parentheses.
  mutating func skipToEnd() {
    var depth = 0
    while let t = peek {
      if depth == 0 && t.isWord("comment") { return }
      if t.isPunct("{") || t.isPunct("(") { depth += 1 }
      if t.isPunct("}") || t.isPunct(")") { depth -= 1 }
      pos += 1
    }
  }

  /// Skips `{ … }` (balanced).
  mutating func skipBraces() throws {
    guard let open = peek, open.isPunct("{") else { throw fail("'{'") }
    var depth = 0
    repeat {
      guard let t = next() else { throw Diagnostic.error("expected '}' to close this '{'", at: open.location) }
      if t.isPunct("{") { depth += 1 }
      if t.isPunct("}") { depth -= 1 }
    } while depth > 0
  }

  // MARK: Verdicts

  /// `reject`, `reject with tcp reset`, `reject with icmp [type] CODE` (and icmpv6, icmpx).
  mutating func readReject() throws -> Part {
    pos += 1
    guard peekWord("with") else { return part(.verdict(.reject(nil))) }
    pos += 1
    let kind = try expectWord("icmp, icmpv6, icmpx or tcp after 'reject with'")
    if kind.text == "tcp" {
      guard peekWord("reset") else { throw fail("'reset' after 'reject with tcp'") }
      pos += 1
      return part(.verdict(.reject(.tcpReset)))
    }
    guard ["icmp", "icmpv6", "icmpx"].contains(kind.text) else {
      throw Diagnostic.error(
        "expected icmp, icmpv6, icmpx or tcp after 'reject with', found '\(kind.source)'", at: kind.location)
    }
    if peekWord("type") { pos += 1 }
    let code = try expectWord("a reject code")
    var name = code.text
    if let n = NFTValues.number(code.text), let byte = UInt8(exactly: n) {
      name = ProtocolNames.name(byte, in: ProtocolNames.icmpCodeTable(kind.text == "icmpv6" ? .v6 : .v4))
    }
    let kindValue: RejectKind?
    switch kind.text {
    case "icmp": kindValue = ICMPRejectCode(rawValue: name).map { .icmp($0) }
    case "icmpv6": kindValue = ICMPv6RejectCode(rawValue: name).map { .icmpv6($0) }
    default: kindValue = ICMPxRejectCode(rawValue: code.text).map { .icmpx($0) }
    }
    guard let kindValue else { return part(.opaqueVerdict) }
    return part(.verdict(.reject(kindValue)))
  }

  /// `snat [ip|ip6] [to] ADDRESS[:PORT]`; a map, `$set`, or flags (`random`, `persistent`) keep
  /// it opaque.
  mutating func readNAT() throws -> Part {
    let keyword = next()!
    var version: IPVersion?
    if peekWord("ip") || peekWord("ip6"), peek(1)?.isWord("to") == true {
      version = peekWord("ip") ? .v4 : .v6
      pos += 1
    }
    if peekWord("to") { pos += 1 }
    guard peek != nil, !peekWord("comment") else { throw fail("an address after '\(keyword.text)'") }
    var destination: NATDestination?
    if let t = peek, t.kind == .word, let d = Self.natDestination(t.text) {
      pos += 1
      destination = d
    }
    let rest = pos
    skipToEnd()
    guard let destination, pos == rest, version == nil || version == destination.version else {
      return part(.opaqueVerdict)
    }
    return part(.verdict(keyword.text == "snat" ? .snat(destination) : .dnat(destination)))
  }

  /// `1.2.3.4`, `1.2.3.4-1.2.3.9:1000-2000`, `fd00::1`, `[fd00::1]:80`.
  static func natDestination(_ text: String) -> NATDestination? {
    var addressPart = Substring(text)
    var portPart: Substring?
    if text.hasPrefix("[") {
      guard let close = text.firstIndex(of: "]") else { return nil }
      addressPart = text[text.index(after: text.startIndex)..<close]
      let after = text[text.index(after: close)...]
      if !after.isEmpty {
        guard after.hasPrefix(":") else { return nil }
        portPart = after.dropFirst()
      }
    } else if text.filter({ $0 == ":" }).count == 1, let colon = text.firstIndex(of: ":") {
      addressPart = text[..<colon]
      portPart = text[text.index(after: colon)...]
    }
    var ports: PortRange?
    if let portPart {
      guard
        let p = NFTValues.port(
          .atom(NFTToken(kind: .word, text: String(portPart), location: .unknown, spaceBefore: false)))
      else {
        return nil
      }
      ports = p
    }
    if let dash = addressPart.firstIndex(of: "-") {
      guard let a = IPAddress(addressPart[..<dash]), let b = IPAddress(addressPart[addressPart.index(after: dash)...]),
        a.version == b.version, a <= b
      else { return nil }
      return NATDestination(address: a, lastAddress: b, ports: ports)
    }
    guard let a = IPAddress(addressPart) else { return nil }
    return NATDestination(address: a, ports: ports)
  }

  /// `masquerade [to :PORT[-PORT]]`, `redirect [to [:]PORT[-PORT]]`; flags keep it opaque.
  mutating func readMasquerade() throws -> Part {
    let keyword = next()!
    var ports: PortRange?
    var modelled = true
    if peekWord("to") {
      pos += 1
      let t = try expectWord("':PORT' after 'to'")
      let text = t.text.hasPrefix(":") ? String(t.text.dropFirst()) : t.text
      ports = NFTValues.port(.atom(NFTToken(kind: .word, text: text, location: t.location, spaceBefore: false)))
      if ports == nil { modelled = false }
    }
    if peek != nil && !peekWord("comment") {
      skipToEnd()
      modelled = false
    }
    guard modelled else { return part(.opaqueVerdict) }
    return part(.verdict(keyword.text == "masquerade" ? .masquerade(ports: ports) : .redirect(ports: ports)))
  }

  // MARK: Statements

  /// `counter`, `counter packets N bytes M` (the values are ignored), `counter name X`.
  mutating func readCounter() throws -> Part {
    pos += 1
    if peekWord("name") {
      pos += 1
      _ = try expectName("a counter name")
      return part(.action(inert: true))
    }
    if peekWord("packets") {
      pos += 1
      _ = try expectWord("a packet count")
      guard peekWord("bytes") else { throw fail("'bytes'") }
      pos += 1
      _ = try expectWord("a byte count")
    }
    return part(.statement(.counter))
  }

  /// `log [prefix "…"] [level L]`; `group`, `snaplen`, `queue-threshold`, `flags` and the `audit`
  /// level are not in the model (the statement stays as written).
  mutating func readLog() throws -> Part {
    pos += 1
    var prefix: String?
    var level: LogLevel?
    var modelled = true
    while let t = peek, t.kind == .word {
      switch t.text {
      case "prefix":
        pos += 1
        prefix = try expectName("a quoted prefix").text
      case "level":
        pos += 1
        let l = try expectWord("a log level")
        if let known = LogLevel(rawValue: l.text == "warning" ? "warn" : l.text) {
          level = known
        } else {
          modelled = false
        }
      case "group", "snaplen", "queue-threshold":
        pos += 1
        _ = try expectWord("a number after '\(t.text)'")
        modelled = false
      case "flags":
        pos += 1
        let words: Set<String> = ["tcp", "ip", "sequence", "options", "skuid", "ether", "all"]
        while let w = peek, (w.kind == .word && words.contains(w.text)) || w.isPunct(",") { pos += 1 }
        modelled = false
      default:
        return part(modelled ? .statement(.log(prefix: prefix, level: level)) : .action(inert: true))
      }
    }
    return part(modelled ? .statement(.log(prefix: prefix, level: level)) : .action(inert: true))
  }

  /// `limit rate [over] N/UNIT [burst N packets]`, `limit rate [over] N bytes/UNIT [burst N
  /// kbytes]`; `limit name X` (a named limit object) is kept as written.
  mutating func readLimit() throws -> Part {
    pos += 1
    if peekWord("name") {
      pos += 1
      _ = try expectName("a limit name")
      return part(.opaqueMatch(pure: false))
    }
    guard peekWord("rate") else { throw fail("'rate' or 'name' after 'limit'") }
    pos += 1
    var over = false
    if peekWord("over") {
      over = true
      pos += 1
    } else if peekWord("until") {
      pos += 1
    }
    let first = try expectWord("a rate like 25/second")
    let multipliers: [String: UInt64] = ["bytes": 1, "kbytes": 1024, "mbytes": 1024 * 1024]
    var rateText: Substring
    var unitText: Substring
    var scale: UInt64?
    if let slash = first.text.firstIndex(of: "/") {
      rateText = first.text[..<slash]
      unitText = first.text[first.text.index(after: slash)...]
    } else {
      rateText = Substring(first.text)
      let second = try expectWord("a unit like mbytes/second")
      var unitWord = Substring(second.text)
      if let slash = second.text.firstIndex(of: "/") {
        unitWord = second.text[..<slash]
        unitText = second.text[second.text.index(after: slash)...]
      } else if unitWord == "/" {
        unitWord = "packets"
        unitText = Substring(try expectWord("a time unit").text)
      } else {
        guard peekWord("/") else { throw fail("'/' and a time unit") }
        pos += 1
        unitText = Substring(try expectWord("a time unit").text)
      }
      if unitWord != "packets" {
        guard let m = multipliers[String(unitWord)] else {
          throw Diagnostic.error("unknown rate unit '\(unitWord)' (bytes, kbytes, mbytes)", at: second.location)
        }
        scale = m
      }
    }
    guard let rate = NFTValues.number(String(rateText)), let unit = RateLimit.Unit(rawValue: String(unitText)) else {
      throw Diagnostic.error(
        "bad rate '\(first.text)': expected a number per second, minute, hour, day or week", at: first.location)
    }
    var burst: UInt64?
    var burstScale: UInt64 = 1
    if peekWord("burst") {
      pos += 1
      let b = try expectWord("a burst size")
      guard let n = NFTValues.number(b.text) else { throw Diagnostic.error("bad burst '\(b.text)'", at: b.location) }
      burst = n
      let u = try expectWord("'packets' or a byte unit")
      if u.text != "packets" {
        guard let m = multipliers[u.text] else {
          throw Diagnostic.error("unknown burst unit '\(u.text)' (packets, bytes, kbytes, mbytes)", at: u.location)
        }
        burstScale = m
      }
    }
    let limit: RateLimit
    if let scale {
      let bytes = burst.map { $0 * burstScale }
      limit = RateLimit(
        rate: rate * scale, unit: unit, quantity: .bytes,
        burst: bytes.flatMap { $0 == 0 ? nil : UInt32(exactly: $0) }, over: over)
    } else {
      limit = RateLimit(
        rate: rate, unit: unit,
        burst: burst.flatMap { $0 == UInt64(RateLimit.defaultBurst) ? nil : UInt32(exactly: $0) },
        over: over)
    }
    return part(.match(.limit(limit), negated: false))
  }

  /// `quota [over|until] N [UNIT] [used N UNIT]` or `quota name X`.
  mutating func readQuota() throws {
    pos += 1
    if peekWord("name") {
      pos += 1
      _ = try expectName("a quota name")
      return
    }
    if peekWord("over") || peekWord("until") { pos += 1 }
    _ = try expectWord("a quota size")
    let units: Set<String> = ["bytes", "kbytes", "mbytes", "gbytes"]
    if let u = peek, u.kind == .word, units.contains(u.text) { pos += 1 }
    if peekWord("used") {
      pos += 1
      _ = try expectWord("a size")
      if let u = peek, u.kind == .word, units.contains(u.text) { pos += 1 }
    }
  }
}
