import Foundation
import NetfilterModel

/// Reads the `expr` array of one JSON rule: `match` expressions into matches, `counter`, `log`,
/// `limit` and `meta mark set` into statements (a limit is a match in the model), and the verdict
/// or NAT statement. Anything else is kept opaque with its compact JSON and a warning.
struct NFTJSONRule {
  /// `rule ip filter/INPUT/7`, how diagnostics name the rule (JSON has no lines).
  let label: String
  let family: Family
  let location: SourceLocation
  var matches: [Match] = []
  var statements: [Statement] = []
  var verdict: Verdict?
  /// Statements the model does not know, in order: they become an opaque target or matches.
  var unknownStatements: [(name: String, text: String, isTerminal: Bool)] = []
  var diagnostics: [Diagnostic] = []

  init(label: String, family: Family, location: SourceLocation) {
    self.label = label
    self.family = family
    self.location = location
  }

  /// Statements that decide the packet's fate (or may): kept as a terminal opaque target. The
  /// model's own verdicts are here for the options it lacks (`snat … persistent`, `reject` of an
  /// unknown type).
  static let terminalStatements = OpaqueTarget.nftTerminalStatements

  mutating func read(_ expression: Any) {
    guard let object = expression as? [String: Any], object.count == 1, let (key, body) = object.first else {
      return unknown("expression", expression)
    }
    switch key {
    case "match":
      guard let m = body as? [String: Any], let match = match(m) else {
        return opaqueMatch(Self.name(ofMatch: body), expression)
      }
      matches.append(match)
    case "counter": statements.append(Statement(.counter, location: location))
    case "log":
      guard let log = self.log(body) else { return unknown("log", expression) }
      statements.append(Statement(log, location: location))
    case "limit":
      guard let limit = Self.limit(body) else { return opaqueMatch("limit", expression) }
      matches.append(Match(.limit(limit), location: location))
    case "mangle":
      guard let m = body as? [String: Any], let kind = Self.markStatement(m) else {
        return unknown("mangle", expression)
      }
      statements.append(Statement(kind, location: location))
    default:
      guard let v = self.verdict(key, body) else { return unknown(key, expression) }
      guard verdict == nil else { return unknown(key, expression) }
      verdict = v
    }
  }

  /// The rule, with the unknown statements placed: a lone one without a verdict becomes an opaque
  /// target; otherwise each becomes an opaque match (the engine answers `unknown` at them).
  mutating func finish() -> Rule {
    if verdict == nil, unknownStatements.count == 1, let only = unknownStatements.first {
      verdict = .opaque(OpaqueTarget(name: only.name, text: only.text, isTerminal: only.isTerminal, syntax: .nftJSON))
      warn(
        "\(only.name) is not modelled; kept as an opaque \(only.isTerminal ? "" : "non-terminal ")target \(only.text)")
    } else {
      for s in unknownStatements {
        matches.append(Match(.opaque(OpaqueMatch(module: s.name, text: s.text, syntax: .nftJSON)), location: location))
        warn("\(s.name) is not modelled; kept as an opaque match \(s.text)")
      }
    }
    return Rule(
      matches: matches, statements: statements, verdict: verdict, verdictLocation: location, location: location)
  }

  mutating func warn(_ message: String) {
    diagnostics.append(Diagnostic(.warning, "\(label): \(message)", at: location))
  }

  mutating func unknown(_ name: String, _ expression: Any) {
    unknownStatements.append((name, NFTJSON.compact(expression), Self.terminalStatements.contains(name)))
  }

  mutating func opaqueMatch(_ name: String, _ expression: Any) {
    let text = NFTJSON.compact(expression)
    matches.append(Match(.opaque(OpaqueMatch(module: name, text: text, syntax: .nftJSON)), location: location))
    warn("\(name) is not modelled; kept as an opaque match \(text)")
  }

  /// `fib`, `ct status`, `th dport`: what a match tests, for its warning.
  static func name(ofMatch body: Any) -> String {
    guard var left = (body as? [String: Any])?["left"] else { return "match" }
    if let and = (left as? [String: Any])?["&"] as? [Any], let first = and.first { left = first }
    guard let object = left as? [String: Any], let (key, value) = object.first else { return "match" }
    guard let fields = value as? [String: Any] else { return key }
    if let protocolName = fields["protocol"] as? String, let field = fields["field"] as? String {
      return "\(protocolName) \(field)"
    }
    if let k = fields["key"] as? String { return "\(key) \(k)" }
    return key
  }

  /// `{"meta": {"key": "mark"}}` or `{"ct": {"key": "mark"}}` (`expression` names which).
  static func isMark(_ object: [String: Any], _ expression: String) -> Bool {
    (object[expression] as? [String: Any])?["key"] as? String == "mark"
  }

  /// `meta mark set 0x1`, `ct mark set 0x1`, `ct mark set meta mark`, `meta mark set ct mark`.
  static func markStatement(_ mangle: [String: Any]) -> Statement.Kind? {
    guard let key = mangle["key"] as? [String: Any], let value = mangle["value"] else { return nil }
    let number = NFTJSON.integer(value).flatMap { UInt32(exactly: $0) }
    let source = value as? [String: Any]
    if isMark(key, "meta") {
      if let number { return .setMark(number) }
      if let source, isMark(source, "ct") { return .restoreMark }
    } else if isMark(key, "ct") {
      if let number { return .setCTMark(number) }
      if let source, isMark(source, "meta") { return .saveMark }
    }
    return nil
  }

  // MARK: Matches

  func match(_ body: [String: Any]) -> Match? {
    guard let op = body["op"] as? String, ["==", "!=", "in"].contains(op), let left = body["left"],
      let right = body["right"]
    else { return nil }
    guard let kind = matchKind(left, right) else { return nil }
    return Match(kind, negated: op == "!=", location: location)
  }

  func matchKind(_ left: Any, _ right: Any) -> Match.Kind? {
    guard let object = left as? [String: Any], object.count == 1, let (key, value) = object.first else { return nil }
    let fields = value as? [String: Any] ?? [:]
    switch key {
    case "payload":
      guard let header = fields["protocol"] as? String, let field = fields["field"] as? String else { return nil }
      return payload(header, field, right)
    case "meta":
      switch fields["key"] as? String {
      case "l4proto": return NFTJSON.operand(right, NFTJSON.proto).map { .l4proto(.metaL4proto, $0) }
      case "iifname": return NFTJSON.operand(right, NFTJSON.interface).map { .interface(.input, $0) }
      case "iif", "oif":
        guard let name = right as? String, let p = NFTJSON.interface(name), !p.isWildcard else { return nil }
        return .interfaceIndex(fields["key"] as? String == "iif" ? .input : .output, .single(p.name))
      case "nfproto":
        guard let name = right as? String, name == "ipv4" || name == "ipv6" else { return nil }
        return .nfproto(name == "ipv4" ? .v4 : .v6)
      case "oifname": return NFTJSON.operand(right, NFTJSON.interface).map { .interface(.output, $0) }
      case "mark":
        return NFTJSON.integer(right).flatMap { UInt32(exactly: $0) }.map { .mark(value: $0, mask: nil) }
      default: return nil
      }
    case "fib":
      // `fib saddr|daddr type …`; other flags (iif, oif, mark) and results stay opaque.
      guard fields["result"] as? String == "type", let flags = fields["flags"] as? [String], flags.count == 1,
        flags[0] == "saddr" || flags[0] == "daddr"
      else { return nil }
      let names: [Any] = ((right as? [String: Any])?["set"] as? [Any]) ?? [right]
      let types = names.compactMap { ($0 as? String).flatMap(AddressType.init(rawValue:)) }
      guard types.count == names.count, !types.isEmpty else { return nil }
      return .addressType(flags[0] == "saddr" ? .source : .destination, Set(types))
    case "ct":
      switch fields["key"] as? String {
      case "state": return ctStates(right).map { .ctState($0) }
      case "mark": return NFTJSON.integer(right).flatMap { UInt32(exactly: $0) }.map { .ctMark(value: $0, mask: nil) }
      default: return nil
      }
    case "&":
      guard let pair = value as? [Any], pair.count == 2, let inner = pair[0] as? [String: Any] else { return nil }
      if let mask = NFTJSON.integer(pair[1]).flatMap({ UInt32(exactly: $0) }),
        let v = NFTJSON.integer(right).flatMap({ UInt32(exactly: $0) })
      {
        if Self.isMark(inner, "meta") { return .mark(value: v, mask: mask == .max ? nil : mask) }
        if Self.isMark(inner, "ct") { return .ctMark(value: v, mask: mask == .max ? nil : mask) }
      }
      if let p = inner["payload"] as? [String: Any], p["protocol"] as? String == "tcp",
        p["field"] as? String == "flags", let mask = Self.tcpFlags(pair[1]), let v = Self.tcpFlags(right)
      {
        return .tcpFlags(value: v, mask: mask)
      }
      return nil
    default: return nil
    }
  }

  func payload(_ header: String, _ field: String, _ right: Any) -> Match.Kind? {
    switch (header, field) {
    case ("ip", "saddr"), ("ip", "daddr"), ("ip6", "saddr"), ("ip6", "daddr"):
      let version: IPVersion = header == "ip" ? .v4 : .v6
      guard let operand = NFTJSON.operand(right, NFTJSON.address),
        operand.inlineElements.allSatisfy({ $0.version == version })
      else { return nil }
      return .address(version, field == "saddr" ? .source : .destination, operand)
    case ("tcp", "sport"), ("tcp", "dport"), ("udp", "sport"), ("udp", "dport"):
      let proto: TransportProtocol = header == "tcp" ? .tcp : .udp
      return NFTJSON.operand(right, NFTJSON.port).map { .port(proto, field == "sport" ? .source : .destination, $0) }
    case ("ip", "protocol"): return NFTJSON.operand(right, NFTJSON.proto).map { .l4proto(.ipProtocol, $0) }
    case ("ip6", "nexthdr"): return NFTJSON.operand(right, NFTJSON.proto).map { .l4proto(.ip6NextHeader, $0) }
    case ("icmp", "type"), ("icmpv6", "type"):
      let version: IPVersion = header == "icmp" ? .v4 : .v6
      let table = ProtocolNames.icmpTypeTable(version)
      return NFTJSON.operand(right) { NFTJSON.named($0, in: table) }.map { .icmpType(version, $0) }
    case ("icmp", "code"), ("icmpv6", "code"):
      let version: IPVersion = header == "icmp" ? .v4 : .v6
      let table = ProtocolNames.icmpCodeTable(version)
      return NFTJSON.operand(right) { NFTJSON.named($0, in: table) }.map { .icmpCode(version, $0) }
    case ("ether", "saddr"): return NFTJSON.operand(right, NFTJSON.mac).map { .etherSource($0) }
    case ("tcp", "flags"):
      return Self.tcpFlags(right).map { .tcpFlags(value: $0, mask: TCPFlags(rawValue: 0xff)) }
    default: return nil
    }
  }

  /// `"new"`, `["established", "related"]` or `{"set": […]}`.
  func ctStates(_ value: Any) -> Set<CTState>? {
    let names = (value as? [String: Any])?["set"] as? [Any] ?? value as? [Any] ?? [value]
    var states = Set<CTState>()
    for name in names {
      guard let state = (name as? String).flatMap(CTState.init(rawValue:)) else { return nil }
      states.insert(state)
    }
    return states.isEmpty ? nil : states
  }

  /// `"syn"` or `["syn", "ack"]`.
  static func tcpFlags(_ value: Any) -> TCPFlags? {
    let names = value as? [Any] ?? [value]
    var flags = TCPFlags()
    for name in names {
      guard let flag = TCPFlags.names.first(where: { $0.0 == name as? String })?.1 else { return nil }
      flags.insert(flag)
    }
    return flags
  }

  /// `{"rate": 10, "burst": 5, "per": "second", "rate_unit": "mbytes", "inv": true}`.
  static func limit(_ body: Any) -> RateLimit? {
    guard let l = body as? [String: Any], let rate = NFTJSON.integer(l["rate"]).flatMap({ UInt64(exactly: $0) }),
      let unit = (l["per"] as? String).flatMap(RateLimit.Unit.init(rawValue:))
    else { return nil }
    let multipliers: [String: UInt64] = ["bytes": 1, "kbytes": 1024, "mbytes": 1024 * 1024]
    let burst = NFTJSON.integer(l["burst"]).flatMap { UInt32(exactly: $0) } ?? 0
    let over = l["inv"] as? Bool ?? false
    guard let rateUnit = l["rate_unit"] as? String, rateUnit != "packets" else {
      return RateLimit(
        rate: rate, unit: unit, burst: burst == RateLimit.defaultBurst ? nil : burst, over: over)
    }
    guard let rateScale = multipliers[rateUnit],
      let burstScale = multipliers[l["burst_unit"] as? String ?? "bytes"]
    else { return nil }
    return RateLimit(
      rate: rate * rateScale, unit: unit, quantity: .bytes, burst: burst == 0 ? nil : burst * UInt32(burstScale),
      over: over)
  }

  // MARK: Statements and verdicts

  /// `{"prefix": "in: ", "level": "info"}`; nil for options the model lacks (group, flags).
  func log(_ body: Any) -> Statement.Kind? {
    let l = body as? [String: Any] ?? [:]
    guard Set(l.keys).isSubset(of: ["prefix", "level"]) else { return nil }
    var level: LogLevel?
    if let name = l["level"] as? String {
      guard let known = LogLevel(rawValue: name == "warning" ? "warn" : name) else { return nil }
      level = known
    }
    return .log(prefix: l["prefix"] as? String, level: level)
  }

  func verdict(_ key: String, _ body: Any) -> Verdict? {
    let fields = body as? [String: Any] ?? [:]
    switch key {
    case "accept": return .accept
    case "drop": return .drop
    case "continue": return .continue
    case "return": return .return
    case "jump": return (fields["target"] as? String).map { .jump(chain: $0) }
    case "goto": return (fields["target"] as? String).map { .goto(chain: $0) }
    case "reject": return reject(fields)
    case "snat", "dnat":
      guard Set(fields.keys).isSubset(of: ["addr", "port", "family"]), let destination = natDestination(fields)
      else { return nil }
      return key == "snat" ? .snat(destination) : .dnat(destination)
    case "masquerade", "redirect":
      guard Set(fields.keys).isSubset(of: ["port"]) else { return nil }
      var ports: PortRange?
      if let p = fields["port"] {
        guard let range = NFTJSON.port(p) else { return nil }
        ports = range
      }
      return key == "masquerade" ? .masquerade(ports: ports) : .redirect(ports: ports)
    default: return nil
    }
  }

  /// `null`, `{"type": "tcp reset"}`, `{"type": "icmpx", "expr": "admin-prohibited"}`.
  func reject(_ fields: [String: Any]) -> Verdict? {
    guard let type = fields["type"] as? String else { return fields.isEmpty ? .reject(nil) : nil }
    let code = fields["expr"] as? String
    switch type {
    case "tcp reset": return .reject(.tcpReset)
    case "icmp": return code.flatMap(ICMPRejectCode.init(rawValue:)).map { .reject(.icmp($0)) }
    case "icmpv6": return code.flatMap(ICMPv6RejectCode.init(rawValue:)).map { .reject(.icmpv6($0)) }
    case "icmpx": return code.flatMap(ICMPxRejectCode.init(rawValue:)).map { .reject(.icmpx($0)) }
    default: return nil
    }
  }

  /// `{"addr": "10.0.0.2", "port": 8080}`; the address may be a `{"range": […]}`.
  func natDestination(_ fields: [String: Any]) -> NATDestination? {
    var ports: PortRange?
    if let p = fields["port"] {
      guard let range = NFTJSON.port(p) else { return nil }
      ports = range
    }
    if let text = fields["addr"] as? String, let a = IPAddress(text) {
      return NATDestination(address: a, ports: ports)
    }
    if let range = (fields["addr"] as? [String: Any])?["range"] as? [Any], range.count == 2,
      let a = (range[0] as? String).flatMap({ IPAddress($0) }), let b = (range[1] as? String).flatMap({ IPAddress($0) })
    {
      return NATDestination(address: a, lastAddress: b, ports: ports)
    }
    return nil
  }
}
