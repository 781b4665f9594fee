import NetfilterModel

/// Parses one rule (already variable-expanded) into the model, in nft vocabulary:
/// matches first, then statements, then a verdict, then `comment "…"`.
struct RuleParser {
  var cursor: TokenCursor
  let family: Family
  let location: SourceLocation

  init(tokens: [Token], family: Family) {
    self.cursor = TokenCursor(tokens)
    self.family = family
    self.location = tokens.first?.location ?? .unknown
  }

  /// The rule, or the first error in it.
  mutating func parse() throws -> Rule {
    var rule = Rule(location: location)
    var firstStatement: Token?
    while let token = cursor.peek {
      if let verdict = try parseVerdict() {
        rule.verdict = verdict
        rule.verdictLocation = token.location
        break
      }
      if token.isWord("comment") {
        break
      }
      if let statement = try parseStatement() {
        rule.statements.append(statement)
        firstStatement = firstStatement ?? token
        continue
      }
      let match = try parseMatch()
      if let firstStatement {
        throw Diagnostic.error(
          "a match cannot follow the statement '\(firstStatement.text)': put matches first", at: token.location)
      }
      rule.matches.append(match)
    }
    if cursor.accept(word: "comment") {
      let t = try cursor.expectName("a quoted comment")
      rule.comment = t.text
    }
    if let extra = cursor.peek {
      let after = rule.verdict != nil ? "the verdict" : "the comment"
      throw Diagnostic.error(
        "unexpected '\(extra)' after \(after); only comment \"…\" may follow a verdict", at: extra.location)
    }
    return rule
  }

  // MARK: Matches

  mutating func parseMatch() throws -> Match {
    let start = cursor.peek!
    let keyword = try cursor.expectWord("a match, statement or verdict")
    switch keyword.text {
    case "ip", "ip6":
      let version: IPVersion = keyword.text == "ip" ? .v4 : .v6
      let field = try cursor.expectWord(version == .v4 ? "saddr, daddr or protocol" : "saddr, daddr or nexthdr")
      switch field.text {
      case "saddr", "daddr":
        let direction: Direction = field.text == "saddr" ? .source : .destination
        let negated = parseOperator()
        let operand = try parseOperand { t in
          let e = try ValueParser.addressElement(t)
          if e.version != version {
            throw ValueParser.fail(
              "\(e.version == .v6 ? "IPv6" : "IPv4") address \(t.text) in '\(keyword.text) \(field.text)'; write '\(version == .v4 ? "ip6" : "ip") \(field.text)'",
              t)
          }
          return e
        }
        return Match(.address(version, direction, operand), negated: negated, location: start.location)
      case "protocol" where version == .v4, "nexthdr" where version == .v6:
        let negated = parseOperator()
        let operand = try parseOperand(ValueParser.proto)
        return Match(
          .l4proto(version == .v4 ? .ipProtocol : .ip6NextHeader, operand), negated: negated,
          location: start.location)
      default:
        throw Diagnostic.error("unknown field '\(keyword.text) \(field.text)'", at: field.location)
      }
    case "meta":
      let field = try cursor.expectWord("l4proto, nfproto or mark")
      switch field.text {
      case "nfproto":
        let negated = parseOperator()
        let value = try cursor.expectWord("ipv4 or ipv6")
        guard value.text == "ipv4" || value.text == "ipv6" else {
          throw Diagnostic.error("expected ipv4 or ipv6 after 'meta nfproto', found '\(value)'", at: value.location)
        }
        return Match(.nfproto(value.text == "ipv4" ? .v4 : .v6), negated: negated, location: start.location)
      case "l4proto":
        let negated = parseOperator()
        return Match(
          .l4proto(.metaL4proto, try parseOperand(ValueParser.proto)), negated: negated, location: start.location)
      case "mark":
        let (value, mask, negated) = try parseMark(start)
        return Match(.mark(value: value, mask: mask), negated: negated, location: start.location)
      default:
        throw Diagnostic.error("unknown field 'meta \(field.text)' (known: l4proto, nfproto, mark)", at: field.location)
      }
    case "tcp", "udp":
      let proto = TransportProtocol(rawValue: keyword.text)!
      let field = try cursor.expectWord(proto == .tcp ? "sport, dport or flags" : "sport or dport")
      switch field.text {
      case "sport", "dport":
        let negated = parseOperator()
        let operand = try parseOperand(ValueParser.portRange)
        return Match(
          .port(proto, field.text == "sport" ? .source : .destination, operand), negated: negated,
          location: start.location)
      case "flags" where proto == .tcp:
        return try parseTCPFlags(start)
      default:
        throw Diagnostic.error("unknown field '\(keyword.text) \(field.text)'", at: field.location)
      }
    case "icmp", "icmpv6":
      let version: IPVersion = keyword.text == "icmp" ? .v4 : .v6
      let field = try cursor.expectWord("type or code")
      let negated = parseOperator()
      switch field.text {
      case "type":
        return Match(
          .icmpType(version, try parseOperand { try ValueParser.icmpType($0, version) }), negated: negated,
          location: start.location)
      case "code":
        return Match(
          .icmpCode(version, try parseOperand { try ValueParser.icmpCode($0, version) }), negated: negated,
          location: start.location)
      default:
        throw Diagnostic.error("unknown field '\(keyword.text) \(field.text)'", at: field.location)
      }
    case "iifname", "oifname":
      let negated = parseOperator()
      let operand = try parseOperand({ try ValueParser.interface($0) })
      return Match(
        .interface(keyword.text == "iifname" ? .input : .output, operand), negated: negated, location: start.location)
    case "iif", "oif":
      // The interface's index, resolved when the rules are loaded: a name without a wildcard.
      let negated = parseOperator()
      let operand = try parseOperand { t -> String in
        let pattern = try ValueParser.interface(t)
        if pattern.isWildcard {
          throw Diagnostic.error(
            "'\(keyword.text)' names one existing interface; for a wildcard write \(keyword.text)name \"\(pattern)\"",
            at: t.location)
        }
        return pattern.name
      }
      return Match(
        .interfaceIndex(keyword.text == "iif" ? .input : .output, operand), negated: negated, location: start.location)
    case "physdev":
      let way = try cursor.expectWord("'in' or 'out'")
      guard way.text == "in" || way.text == "out" else {
        throw Diagnostic.error("expected 'in' or 'out' after physdev, found '\(way)'", at: way.location)
      }
      let negated = parseOperator()
      let port = try ValueParser.interface(try cursor.expectName("a bridge port name"), anyAllowed: true)
      return Match(.bridgePort(way.text == "in" ? .input : .output, port), negated: negated, location: start.location)
    case "ct":
      if cursor.accept(word: "mark") {
        let (value, mask, negated) = try parseMark(start)
        return Match(.ctMark(value: value, mask: mask), negated: negated, location: start.location)
      }
      try cursor.expect(word: "state", context: " after 'ct' (state or mark)")
      let negated = parseOperator()
      var states = Set<CTState>()
      if cursor.peek?.isPunct("{") == true {
        guard case .set(let list) = try parseOperand(ValueParser.ctState) else { fatalError() }
        states = Set(list)
      } else {
        repeat {
          states.insert(try ValueParser.ctState(try cursor.expectWord("a conntrack state")))
        } while cursor.accept(punct: ",")
      }
      return Match(.ctState(states), negated: negated, location: start.location)
    case "fib":
      let field = try cursor.expectWord("saddr or daddr")
      guard field.text == "saddr" || field.text == "daddr", cursor.accept(word: "type") else {
        throw Diagnostic.error(
          "only 'fib saddr type …' and 'fib daddr type …' are modelled; keep other fib expressions as nft \"…\"",
          at: field.location)
      }
      let negated = parseOperator()
      let types: [AddressType]
      switch try parseOperand(ValueParser.addressType) {
      case .single(let t): types = [t]
      case .set(let ts): types = ts
      case .named(let name):
        throw Diagnostic.error(
          "address types cannot come from a named set ('@\(name)'); write them inline", at: start.location)
      }
      return Match(
        .addressType(field.text == "saddr" ? .source : .destination, Set(types)), negated: negated,
        location: start.location)
    case "ether":
      try cursor.expect(word: "saddr", context: " after 'ether'")
      let negated = parseOperator()
      return Match(.etherSource(try parseOperand(ValueParser.mac)), negated: negated, location: start.location)
    case "limit":
      return Match(.limit(try parseLimit()), location: start.location)
    case "iptables":
      // An iptables match the model keeps as written (an imported rule): only the iptables
      // backend can compile it, and the engine answers `unknown` when a packet reaches it.
      let text = try cursor.expectName("the iptables match in quotes, e.g. iptables \"-m owner --uid-owner 0\"")
      let words = text.text.split(separator: " ")
      guard let first = words.first, first.hasPrefix("-") || first == "!" else {
        throw Diagnostic.error(
          "'\(text.text)' is not an iptables match (it starts with -m, -f or !)", at: text.location)
      }
      return Match(
        .opaque(OpaqueMatch(module: RuleParser.opaqueModule(words), text: text.text)), location: start.location)
    case "nft":
      // An nft expression the model keeps as written (an imported rule): only the nft script
      // backend can compile it, and the engine answers `unknown` when a packet reaches it.
      let text = try cursor.expectName("the nft expression in quotes, e.g. nft \"fib daddr type local\"")
      let words = text.text.split(whereSeparator: { $0 == " " || $0 == "\t" })
      guard !words.isEmpty else { throw Diagnostic.error("an empty nft expression", at: text.location) }
      return Match(
        .opaque(OpaqueMatch(module: OpaqueMatch.nftModule(words), text: text.text, syntax: .nft)),
        location: start.location)
    default:
      throw Diagnostic.error("unknown match, statement or verdict '\(keyword.text)'", at: keyword.location)
    }
  }

  /// The rest of `meta mark …` or `ct mark …`: `0x1`, `!= 0x1`, `& 0xff == 0x1`, `& 0xff != 0x1`.
  /// An all-ones mask is no mask (nft lists `meta mark & 0xffffffff == 0x7` as `meta mark 0x7`).
  mutating func parseMark(_ start: Token) throws -> (value: UInt32, mask: UInt32?, negated: Bool) {
    if cursor.accept(punct: "&") {
      let mask = try ValueParser.mark(try cursor.expectWord("a mask"))
      let negated: Bool
      if cursor.accept(punct: "==") {
        negated = false
      } else if cursor.accept(punct: "!=") {
        negated = true
      } else {
        throw Diagnostic.error("expected '==' or '!=' after the mask\(cursor.foundDescription)", at: cursor.location)
      }
      let value = try ValueParser.mark(try cursor.expectWord("a mark value"))
      if value & ~mask != 0 {
        throw Diagnostic.error(
          "mark value 0x\(String(value, radix: 16)) has bits outside the mask 0x\(String(mask, radix: 16)); it can never match",
          at: start.location)
      }
      return (value, mask == .max ? nil : mask, negated)
    }
    let negated = parseOperator()
    let value = try ValueParser.mark(try cursor.expectWord("a mark value"))
    return (value, nil, negated)
  }

  /// The module an opaque match's text uses: `owner` for `-m owner --uid-owner 0`, `fragment`
  /// for `-f`.
  static func opaqueModule(_ words: [Substring]) -> String {
    if let m = words.firstIndex(of: "-m"), m + 1 < words.count { return String(words[m + 1]) }
    return words.contains("-f") ? "fragment" : String(words.first { $0 != "!" } ?? "opaque")
  }

  /// An opaque iptables target written `iptables "-j NAME …"` (or `-g`), nil for anything else.
  static func opaqueTarget(_ token: Token?) -> OpaqueTarget? {
    guard let token, token.kind == .string else { return nil }
    let words = token.text.split(separator: " ")
    guard words.count >= 2, words[0] == "-j" || words[0] == "-g" else { return nil }
    let name = String(words[1])
    return OpaqueTarget(name: name, text: token.text, isTerminal: !OpaqueTarget.nonTerminalNames.contains(name))
  }

  /// `!=` → negated, `==` or nothing → plain.
  mutating func parseOperator() -> Bool {
    if cursor.accept(punct: "!=") { return true }
    _ = cursor.accept(punct: "==")
    return false
  }

  /// A single value, `{ a, b, … }` (nested sets flatten, as in nft) or `@set`.
  mutating func parseOperand<T>(_ element: (Token) throws -> T) throws -> Operand<T> {
    guard let t = cursor.peek else {
      throw Diagnostic.error("expected a value at end of statement", at: cursor.location)
    }
    if t.kind == .setReference {
      _ = cursor.next()
      return .named(t.text)
    }
    if t.isPunct("{") {
      _ = cursor.next()
      var elements: [T] = []
      var depth = 1
      while depth > 0 {
        guard let e = cursor.next() else {
          throw Diagnostic.error("expected '}' to close the set", at: t.location)
        }
        if e.isPunct("{") {
          depth += 1
        } else if e.isPunct("}") {
          depth -= 1
        } else if e.isPunct(",") {
          continue
        } else {
          elements.append(try element(e))
        }
      }
      if elements.isEmpty { throw Diagnostic.error("empty set never matches", at: t.location) }
      return elements.count == 1 ? .single(elements[0]) : .set(elements)
    }
    if t.kind == .punctuation {
      throw Diagnostic.error("expected a value, found '\(t)'", at: t.location)
    }
    _ = cursor.next()
    return .single(try element(t))
  }

  /// `tcp flags syn / syn,ack` or `tcp flags != syn / syn,ack` or `tcp flags syn` (mask = value).
  mutating func parseTCPFlags(_ start: Token) throws -> Match {
    let negated = parseOperator()
    func flagList(_ cursor: inout TokenCursor) throws -> TCPFlags {
      var flags = TCPFlags()
      repeat {
        let w = try cursor.expectWord("a TCP flag")
        for part in w.text.split(separator: "|") {
          guard let f = TCPFlags.names.first(where: { $0.0 == part }) else {
            throw Diagnostic.error(
              "unknown TCP flag '\(part)' (known: \(TCPFlags.names.map(\.0).joined(separator: ", ")))", at: w.location)
          }
          flags.insert(f.1)
        }
      } while cursor.accept(punct: ",") || cursor.accept(punct: "|")
      return flags
    }
    let value = try flagList(&cursor)
    var mask = value
    if cursor.accept(word: "/") {
      mask = try flagList(&cursor)
    }
    if !value.isSubset(of: mask) {
      throw Diagnostic.error(
        "flags \(value) are not all inside the mask \(mask); the match could never hold", at: start.location)
    }
    return Match(.tcpFlags(value: value, mask: mask), negated: negated, location: start.location)
  }

  /// `limit rate [over] N/UNIT [burst N packets]` or `N bytes/UNIT`.
  mutating func parseLimit() throws -> RateLimit {
    try cursor.expect(word: "rate", context: " after 'limit'")
    let over = cursor.accept(word: "over")
    let first = try cursor.expectWord("a rate like 3/minute")
    var quantity = RateLimit.Quantity.packets
    var rateText: Substring
    var unitText: Substring
    if let slash = first.text.firstIndex(of: "/") {
      rateText = first.text[..<slash]
      unitText = first.text[first.text.index(after: slash)...]
    } else {
      // `10 mbytes/second`
      rateText = Substring(first.text)
      let second = try cursor.expectWord("a unit like bytes/second")
      guard let slash = second.text.firstIndex(of: "/") else {
        throw Diagnostic.error("expected UNIT/TIME like kbytes/second, found '\(second)'", at: second.location)
      }
      let scale = second.text[..<slash]
      let multipliers: [Substring: UInt64] = ["bytes": 1, "kbytes": 1024, "mbytes": 1024 * 1024]
      guard let m = multipliers[scale], let base = UInt64(rateText) else {
        throw Diagnostic.error("unknown rate unit '\(scale)' (bytes, kbytes, mbytes)", at: second.location)
      }
      quantity = .bytes
      let (bytes, overflow) = base.multipliedReportingOverflow(by: m)
      if overflow { throw Diagnostic.error("rate \(rateText) \(scale)/… is too large", at: first.location) }
      rateText = Substring(String(bytes))
      unitText = second.text[second.text.index(after: slash)...]
    }
    guard let rate = UInt64(rateText), rate > 0 else {
      throw Diagnostic.error("bad rate '\(first.text)': expected a positive number like 3/minute", at: first.location)
    }
    guard let unit = RateLimit.Unit(rawValue: String(unitText)) else {
      throw Diagnostic.error(
        "unknown time unit '\(unitText)' (second, minute, hour, day, week)", at: first.location)
    }
    var burst: UInt32?
    if cursor.accept(word: "burst") {
      let b = try cursor.expectWord("a burst size")
      guard let n = UInt32(b.text), n > 0 else {
        throw Diagnostic.error("bad burst '\(b)': expected a positive number", at: b.location)
      }
      let what = try cursor.expectWord("'packets' or 'bytes'")
      guard what.text == quantity.rawValue else {
        throw Diagnostic.error("burst must be in \(quantity.rawValue) for this rate", at: what.location)
      }
      burst = n
    }
    return RateLimit(rate: rate, unit: unit, quantity: quantity, burst: burst, over: over)
  }

  // MARK: Statements

  mutating func parseStatement() throws -> Statement? {
    guard let t = cursor.peek else { return nil }
    if t.isWord("counter") {
      _ = cursor.next()
      return Statement(.counter, location: t.location)
    }
    if t.isWord("log") {
      _ = cursor.next()
      var prefix: String?
      var level: LogLevel?
      while true {
        if cursor.accept(word: "prefix") {
          let p = try cursor.expectName("a quoted prefix")
          if p.text.utf8.count > 127 {
            throw Diagnostic.error(
              "log prefix is \(p.text.utf8.count) bytes; the kernel allows at most 127", at: p.location)
          }
          prefix = p.text
        } else if cursor.accept(word: "level") {
          let l = try cursor.expectWord("a log level")
          guard let lv = LogLevel(rawValue: l.text) else {
            throw Diagnostic.error(
              "unknown log level '\(l)' (\(LogLevel.allCases.map(\.rawValue).joined(separator: ", ")))", at: l.location)
          }
          level = lv
        } else {
          break
        }
      }
      return Statement(.log(prefix: prefix, level: level), location: t.location)
    }
    if t.isWord("meta"), cursor.peek(1)?.isWord("mark") == true, cursor.peek(2)?.isWord("set") == true {
      cursor.index += 3
      if cursor.peek?.isWord("ct") == true, cursor.peek(1)?.isWord("mark") == true {
        cursor.index += 2
        return Statement(.restoreMark, location: t.location)
      }
      let value = try ValueParser.mark(try cursor.expectWord("a mark value or 'ct mark'"))
      return Statement(.setMark(value), location: t.location)
    }
    if t.isWord("ct"), cursor.peek(1)?.isWord("mark") == true, cursor.peek(2)?.isWord("set") == true {
      cursor.index += 3
      if cursor.peek?.isWord("meta") == true, cursor.peek(1)?.isWord("mark") == true {
        cursor.index += 2
        return Statement(.saveMark, location: t.location)
      }
      let value = try ValueParser.mark(try cursor.expectWord("a mark value or 'meta mark'"))
      return Statement(.setCTMark(value), location: t.location)
    }
    return nil
  }

  // MARK: Verdicts

  mutating func parseVerdict() throws -> Verdict? {
    guard let t = cursor.peek, t.kind == .word else { return nil }
    if t.text == "iptables", let target = RuleParser.opaqueTarget(cursor.peek(1)) {
      _ = cursor.next()
      _ = cursor.next()
      return .opaque(target)
    }
    if t.text == "nft", cursor.peek(1)?.isWord("statement") == true {
      cursor.index += 2
      let text = try cursor.expectName("the nft statement in quotes, e.g. nft statement \"flow add @ft\"")
      guard let target = OpaqueTarget.nft(text.text) else {
        throw Diagnostic.error("an empty nft statement", at: text.location)
      }
      return .opaque(target)
    }
    switch t.text {
    case "accept": _ = cursor.next(); return .accept
    case "drop": _ = cursor.next(); return .drop
    case "return": _ = cursor.next(); return .return
    case "continue": _ = cursor.next(); return .continue
    case "jump", "goto":
      _ = cursor.next()
      let name = try cursor.expectName("a chain name")
      return t.text == "jump" ? .jump(chain: name.text) : .goto(chain: name.text)
    case "reject":
      _ = cursor.next()
      guard cursor.accept(word: "with") else { return .reject(nil) }
      let kind = try cursor.expectWord("icmp, icmpv6, icmpx or tcp")
      switch kind.text {
      case "tcp":
        try cursor.expect(word: "reset", context: " after 'reject with tcp'")
        return .reject(.tcpReset)
      case "icmp", "icmpv6", "icmpx":
        _ = cursor.accept(word: "type")
        let code = try cursor.expectWord("a reject code")
        switch kind.text {
        case "icmp":
          if family == .ip6 {
            throw Diagnostic.error("'reject with icmp' in an ip6 table; use icmpv6", at: kind.location)
          }
          guard let c = ICMPRejectCode(rawValue: code.text) else {
            throw unknownCode(code, ICMPRejectCode.allCases.map(\.rawValue))
          }
          return .reject(.icmp(c))
        case "icmpv6":
          if family == .ip {
            throw Diagnostic.error("'reject with icmpv6' in an ip table; use icmp", at: kind.location)
          }
          guard let c = ICMPv6RejectCode(rawValue: code.text) else {
            throw unknownCode(code, ICMPv6RejectCode.allCases.map(\.rawValue))
          }
          return .reject(.icmpv6(c))
        default:
          guard let c = ICMPxRejectCode(rawValue: code.text) else {
            throw unknownCode(code, ICMPxRejectCode.allCases.map(\.rawValue))
          }
          return .reject(.icmpx(c))
        }
      default:
        throw Diagnostic.error(
          "expected icmp, icmpv6, icmpx or tcp after 'reject with', found '\(kind)'", at: kind.location)
      }
    case "snat", "dnat":
      _ = cursor.next()
      var version: IPVersion?
      if cursor.accept(word: "ip") { version = .v4 } else if cursor.accept(word: "ip6") { version = .v6 }
      try cursor.expect(word: "to", context: " after '\(t.text)'")
      var addressToken = try cursor.expectWord("an address")
      // `$HOST:80` expands to two tokens: the address and `:80`.
      if let portPart = cursor.peek, portPart.kind == .word, portPart.text.hasPrefix(":"),
        !addressToken.text.contains(":")
      {
        _ = cursor.next()
        var text = addressToken.text + portPart.text
        // `$HOST:$PORT`: the port is the next token.
        if portPart.text == ":", let port = cursor.peek, port.kind == .word {
          _ = cursor.next()
          text += port.text
        }
        addressToken = Token(.word, text, at: addressToken.location)
      }
      let dest = try ValueParser.natDestination(addressToken)
      if let version, version != dest.version {
        throw Diagnostic.error(
          "'\(t.text) \(version == .v4 ? "ip" : "ip6")' with an \(dest.version == .v4 ? "IPv4" : "IPv6") address",
          at: t.location)
      }
      if family == .ip && dest.version == .v6 || family == .ip6 && dest.version == .v4 {
        throw Diagnostic.error(
          "\(dest.version == .v6 ? "IPv6" : "IPv4") NAT address in an \(family.rawValue) table", at: t.location)
      }
      return t.text == "snat" ? .snat(dest) : .dnat(dest)
    case "masquerade", "redirect":
      _ = cursor.next()
      var ports: PortRange?
      if cursor.accept(word: "to") {
        ports = try ValueParser.portsAfterColon(try cursor.expectWord("':PORT'"))
      }
      return t.text == "masquerade" ? .masquerade(ports: ports) : .redirect(ports: ports)
    default:
      return nil
    }
  }

  func unknownCode(_ token: Token, _ known: [String]) -> Diagnostic {
    .error("unknown reject code '\(token)' (known: \(known.joined(separator: ", ")))", at: token.location)
  }
}
