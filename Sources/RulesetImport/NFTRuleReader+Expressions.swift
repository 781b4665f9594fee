import NetfilterModel

/// Relational expressions (`SELECTOR [& MASK] [OP] VALUE`), `SELECTOR set VALUE` statements and
/// verdict maps, with the values they compare to.
extension NFTRuleReader {
  /// The left side of an expression: `ip saddr`, `meta mark`, `fib daddr type`, `icmpv6 type .
  /// icmpv6 code`.
  struct Selector {
    /// The words of the first field, with `meta` dropped before the keys nft also takes bare
    /// (`meta iifname` is `iifname`).
    var words: [String]
    /// `a . b`: a concatenation of fields (never a model match).
    var concatenated = false
    /// False for selectors whose value changes between reads (`numgen`, `meta random`).
    var pure = true
  }

  /// Headers whose fields nft reads from the packet (`ip saddr`, `tcp dport`, `vlan id`).
  static let payloadHeaders: Set<String> = [
    "ip", "ip6", "tcp", "udp", "udplite", "sctp", "dccp", "ah", "esp", "comp", "icmp", "icmpv6", "igmp", "ether",
    "vlan", "arp", "th", "gre", "gretap", "geneve", "vxlan", "hbh", "frag", "dst", "mh", "srh", "rt0", "rt2", "rt4",
  ]
  /// The `meta` keys nft takes without `meta`.
  static let bareMetaKeys: Set<String> = [
    "mark", "iif", "iifname", "iiftype", "oif", "oifname", "oiftype", "skuid", "skgid", "nftrace", "rtclassid",
    "ibriport", "obriport", "ibrname", "obrname", "pkttype", "cpu", "iifgroup", "oifgroup", "cgroup", "random",
    "iifkind", "oifkind", "time", "day", "hour",
  ]
  static let otherSelectors: Set<String> = [
    "meta", "ct", "fib", "rt", "socket", "osf", "numgen", "jhash", "symhash", "ipsec", "exthdr", "tunnel",
  ]

  /// Whether the token `k` ahead starts a selector (not a value).
  func startsSelector(at k: Int) -> Bool {
    guard let t = peek(k), t.kind == .word else { return false }
    if Self.payloadHeaders.contains(t.text) { return peek(k + 1)?.kind == .word }
    if t.text == "ipsec" { return peek(k + 1)?.isWord("in") == true || peek(k + 1)?.isWord("out") == true }
    if Self.otherSelectors.contains(t.text) || Self.bareMetaKeys.contains(t.text) { return true }
    return t.text.hasPrefix("@") && peek(k + 1)?.isPunct(",") == true
  }

  mutating func readSelector() throws -> Selector {
    let first = try expectWord("a match, statement or verdict")
    var selector = Selector(words: [first.text])
    func word(_ what: String) throws -> String { try expectWord(what).text }
    switch first.text {
    case "tcp" where peekWord("option"), "ip" where peekWord("option"), "sctp" where peekWord("chunk"):
      selector.words.append(try word("'option'"))
      selector.words.append(try word("an option name"))
      let fields: Set<String> = [
        "kind", "length", "size", "count", "left", "right", "tsval", "tsecr", "subtype", "value", "type", "ptr", "addr",
        "flags", "tsn", "stream", "ssn", "ppid", "init-tag", "a-rwnd", "num-outbound-streams", "num-inbound-streams",
        "initial-tsn", "cum-tsn-ack", "num-gap-ack-blocks", "num-dup-tsns", "lowest-tsn", "seqno", "new-cum-tsn",
      ]
      if let f = peek, f.kind == .word, fields.contains(f.text) {
        selector.words.append(f.text)
        pos += 1
      }
    case _ where Self.payloadHeaders.contains(first.text):
      let field = try word("a field of '\(first.text)'")
      selector.words.append(field)
      if first.text == "arp", field == "saddr" || field == "daddr", peekWord("ip") || peekWord("ether") {
        selector.words.append(next()!.text)
      }
    case "meta":
      let key = try word("a meta key")
      selector.words = Self.bareMetaKeys.contains(key) ? [key] : ["meta", key]
      if key == "random" { selector.pure = false }
    case "random":
      selector.pure = false
    case _ where Self.bareMetaKeys.contains(first.text):
      break
    case "ct":
      if peekWord("original") || peekWord("reply") { selector.words.append(next()!.text) }
      let key = try word("a conntrack key")
      selector.words.append(key)
      if key == "ip" || key == "ip6" { selector.words.append(try word("saddr or daddr")) }
    case "fib":
      let fibFlags: Set<String> = ["saddr", "daddr", "mark", "iif", "oif"]
      selector.words.append(try word("saddr, daddr, mark, iif or oif"))
      while peekWord("."), let f = peek(1), f.kind == .word, fibFlags.contains(f.text) {
        selector.words += [".", f.text]
        pos += 2
      }
      selector.words.append(try word("oif, oifname or type"))
    case "rt", "ipsec", "socket", "osf", "exthdr", "tunnel":
      if first.text == "rt", peekWord("ip") || peekWord("ip6") { selector.words.append(next()!.text) }
      if first.text == "ipsec" {
        selector.words.append(try word("in or out"))
        if peekWord("spnum") { selector.words += [next()!.text, try word("a number")] }
      }
      if first.text == "osf", peekWord("ttl") { selector.words += [next()!.text, try word("loose, skip or global")] }
      let key = try word("a key of '\(first.text)'")
      selector.words.append(key)
      if first.text == "ipsec", key == "ip" || key == "ip6" { selector.words.append(try word("saddr or daddr")) }
      if first.text == "socket", key == "cgroupv2" {
        guard peekWord("level") else { throw fail("'level'") }
        selector.words += [next()!.text, try word("a level")]
      }
    case "numgen", "jhash", "symhash":
      selector.pure = first.text != "numgen"
      if first.text == "numgen" { selector.words.append(try word("inc or random")) }
      if first.text == "jhash" { _ = try readSelector() }
      guard peekWord("mod") else { throw fail("'mod'") }
      selector.words += [next()!.text, try word("a modulus")]
      for option in ["seed", "offset"] where peekWord(option) {
        selector.words += [next()!.text, try word("a number")]
      }
    default:
      guard first.text.hasPrefix("@"), peek?.isPunct(",") == true else {
        throw Diagnostic.error("unknown match, statement or verdict '\(first.source)'", at: first.location)
      }
      // `@nh,16,8`: raw payload bits.
      for _ in 0..<2 {
        guard peek?.isPunct(",") == true else { throw fail("','") }
        pos += 1
        selector.words.append(try word("a number"))
      }
    }
    while peekWord("."), startsSelector(at: 1) {
      pos += 1
      let other = try readSelector()
      selector.concatenated = true
      selector.pure = selector.pure && other.pure
    }
    return selector
  }

  static let binaryOperators: Set<String> = ["&", "|", "^", "<<", ">>"]
  static let relationalOperators: Set<String> = ["==", "!=", "<", ">", "<=", ">=", "!"]
  static let relationalWords: [String: String] = ["eq": "==", "ne": "!=", "lt": "<", "gt": ">", "le": "<=", "ge": ">="]

  /// A part that starts with a selector: a match, a `set` statement or a verdict map.
  mutating func readExpression() throws -> Part {
    let start = pos
    let selector = try readSelector()
    var masks: [(op: String, value: NFTValue)] = []
    while let t = peek, t.kind == .punctuation, Self.binaryOperators.contains(t.text) {
      pos += 1
      masks.append((t.text, try readPrimary(inSet: false)))
    }
    if peekWord("set") {
      pos += 1
      let valueStart = pos
      let value = try readGenericExpression()
      let source = tokens[valueStart..<pos].map(\.text)
      if masks.isEmpty, let kind = Self.markStatement(selector.words, value, source) {
        return part(.statement(kind))
      }
      return part(.action(inert: !Self.rewritesModelledField(selector)))
    }
    if peekWord("vmap") {
      pos += 1
      let value = try readValue(inSet: false)
      try checkSetsExist(value)
      return vmap(selector, masks, value)
    }
    var mapped = false
    if peekWord("map") {
      pos += 1
      _ = try readValue(inSet: false)
      mapped = true
    }
    var op: String?
    if let t = peek, t.kind == .punctuation, Self.relationalOperators.contains(t.text) {
      op = t.text
      pos += 1
    } else if let t = peek, t.kind == .word, let o = Self.relationalWords[t.text] {
      op = o
      pos += 1
    }
    let value = try readValue(inSet: false)
    try checkSetsExist(value)
    if !mapped, let (kind, negated) = modelMatch(selector, masks, op, value) {
      if case .nfproto = kind, context.family != .inet {
        throw Diagnostic.error(
          "meta nfproto is only useful in the inet family (nft refuses it in \(context.family.rawValue) tables)",
          at: tokens[start].location)
      }
      return part(.match(kind, negated: negated))
    }
    return part(.opaqueMatch(pure: selector.pure))
  }

  /// `meta mark set 0x1`, `meta mark set ct mark`, `ct mark set 0x1`, `ct mark set meta mark`;
  /// nil for any other `set` (`source` is the right side's words).
  static func markStatement(_ target: [String], _ value: NFTValue?, _ source: [String]) -> Statement.Kind? {
    let mark = value.flatMap(NFTValues.mark)
    switch target {
    case ["mark"]:
      if let mark { return .setMark(mark) }
      if source == ["ct", "mark"] { return .restoreMark }
    case ["ct", "mark"]:
      if let mark { return .setCTMark(mark) }
      if source == ["meta", "mark"] || source == ["mark"] { return .saveMark }
    default: break
    }
    return nil
  }

  /// Whether `SELECTOR set …` writes a field the model tests (an address, port, protocol, ICMP
  /// type or code, TCP flags or MAC): later rules would see a packet the engine does not.
  static func rewritesModelledField(_ selector: Selector) -> Bool {
    guard selector.words.count == 2, payloadHeaders.contains(selector.words[0]) else { return false }
    return ["saddr", "daddr", "sport", "dport", "protocol", "nexthdr", "type", "code", "flags"].contains(
      selector.words[1])
  }

  /// The right side of `set` or `to`: a selector expression or a value, with masks and `map`. The
  /// value when it is a plain one.
  @discardableResult
  mutating func readGenericExpression() throws -> NFTValue? {
    var value: NFTValue?
    if startsSelector(at: 0) {
      _ = try readSelector()
    } else {
      value = try readValue(inSet: false)
    }
    while let t = peek, t.kind == .punctuation, Self.binaryOperators.contains(t.text) {
      pos += 1
      _ = try readPrimary(inSet: false)
      value = nil
    }
    if peekWord("map") {
      pos += 1
      _ = try readValue(inSet: false)
      value = nil
    }
    return value
  }

  /// `SELECTOR vmap { KEY : VERDICT, … }`: expandable when the key is a field the model tests
  /// with `==` and every verdict is one the model holds.
  mutating func vmap(_ selector: Selector, _ masks: [(op: String, value: NFTValue)], _ value: NFTValue)
    -> Part
  {
    guard masks.isEmpty, !selector.concatenated, let elements = value.setElements else {
      return part(.opaqueVerdict)
    }
    var result: [(kind: Match.Kind, verdict: Verdict, location: SourceLocation)] = []
    for element in elements {
      guard case .mapping(let key, .verdict(let verdict, _)) = element,
        let (kind, negated) = modelMatch(selector, [], "==", key), !negated
      else { return part(.opaqueVerdict) }
      result.append((kind, verdict, key.firstToken?.location ?? location))
    }
    return part(.vmap(result))
  }

  /// An error for an `@name` value that names no set or map of the table (nft refuses it).
  func checkSetsExist(_ value: NFTValue) throws {
    if case .named(let name, let t) = value, context.sets[name] == nil, !context.unmodelled.contains(name) {
      throw Diagnostic.error("set @\(name) does not exist in this table", at: t.location)
    }
  }

  // MARK: Values

  /// A value: a list `a,b` (outside sets), flags `a | b`, a concatenation `a . b`, a range
  /// `a - b`, and `value / mask` (outside sets).
  mutating func readValue(inSet: Bool) throws -> NFTValue {
    var value = try readList(inSet: inSet)
    if !inSet, peekWord("/") {
      pos += 1
      value = .slash(value, try readList(inSet: false))
    }
    return value
  }

  mutating func readList(inSet: Bool) throws -> NFTValue {
    let first = try readOr(inSet: inSet)
    guard !inSet, peek?.isPunct(",") == true else { return first }
    var items = [first]
    while peek?.isPunct(",") == true {
      pos += 1
      items.append(try readOr(inSet: inSet))
    }
    return .list(items)
  }

  mutating func readOr(inSet: Bool) throws -> NFTValue {
    let first = try readConcat(inSet: inSet)
    guard peek?.isPunct("|") == true else { return first }
    var items = [first]
    while peek?.isPunct("|") == true {
      pos += 1
      items.append(try readConcat(inSet: inSet))
    }
    return .or(items)
  }

  mutating func readConcat(inSet: Bool) throws -> NFTValue {
    let first = try readRange(inSet: inSet)
    guard peekWord(".") else { return first }
    var items = [first]
    while peekWord(".") {
      pos += 1
      items.append(try readRange(inSet: inSet))
    }
    return .concat(items)
  }

  mutating func readRange(inSet: Bool) throws -> NFTValue {
    let first = try readPrimary(inSet: inSet)
    guard peekWord("-") else { return first }
    pos += 1
    return .range(first, try readPrimary(inSet: inSet))
  }

  mutating func readPrimary(inSet: Bool) throws -> NFTValue {
    guard let t = peek else { throw fail("a value") }
    if t.isPunct("{") { return try readSetLiteral() }
    if t.isPunct("(") {
      pos += 1
      let inner = try readValue(inSet: false)
      guard peek?.isPunct(")") == true else { throw fail("')'") }
      pos += 1
      return .paren(inner)
    }
    guard t.kind == .word || t.kind == .string else { throw fail("a value") }
    pos += 1
    if t.kind == .word, t.text.hasPrefix("@"), t.text.count > 1 { return .named(String(t.text.dropFirst()), t) }
    return .atom(t)
  }

  /// `{ a, b : verdict, c timeout 1h }`: elements with map values and element options.
  mutating func readSetLiteral() throws -> NFTValue {
    let open = next()!
    var elements: [NFTValue] = []
    let options: Set<String> = [
      "timeout", "expires", "comment", "counter", "quota", "limit", "last", "packets", "bytes",
    ]
    while true {
      guard let t = peek else { throw Diagnostic.error("expected '}' to close this set", at: open.location) }
      if t.isPunct("}") {
        pos += 1
        break
      }
      if t.isPunct(",") {
        pos += 1
        continue
      }
      var element = try readValue(inSet: true)
      if peekWord(":") {
        pos += 1
        element = .mapping(element, try readMapValue())
      }
      if let o = peek, o.kind == .word, options.contains(o.text) {
        while let o = peek, !o.isPunct(","), !o.isPunct("}") { pos += 1 }
      }
      guard let after = peek, after.isPunct(",") || after.isPunct("}") else {
        throw fail("',' or '}' in the set")
      }
      elements.append(element)
    }
    return .set(elements, open)
  }

  /// The value of a map element: a verdict (`accept`, `jump CHAIN`) or a value.
  mutating func readMapValue() throws -> NFTValue {
    guard let t = peek else { throw fail("a map value") }
    let verdicts: [String: Verdict] = ["accept": .accept, "drop": .drop, "continue": .continue, "return": .return]
    if t.kind == .word, let v = verdicts[t.text] {
      pos += 1
      return .verdict(v, t)
    }
    if t.isWord("jump") || t.isWord("goto") {
      pos += 1
      let name = try expectName("a chain name")
      references.append((name.text, name.location))
      return .verdict(t.text == "jump" ? .jump(chain: name.text) : .goto(chain: name.text), t)
    }
    return try readValue(inSet: true)
  }
}
