/// The nft syntax of rules, matches, statements and verdicts, exactly as `nft list ruleset` prints
/// them. The nft backend writes scripts with it; traces and diagnostics show rules with it.
public enum NFTSyntax {
  /// Where the text goes: an nft script (opaque nft parts written as they are), or a policy file,
  /// which wraps them so its parser knows where they end (`nft "fib daddr type local"`,
  /// `nft statement "flow add @ft"`).
  public enum Dialect: Sendable {
    case nft, policy
  }

  /// One rule in nft syntax, as listed.
  public static func rule(_ rule: Rule, family: Family, comment: String? = nil, dialect: Dialect = .nft) -> String {
    var parts: [String] = []
    for (match, asRange) in scriptMatches(rule) {
      if asRange, case .port(let proto, let dir, .single(let p)) = match.kind {
        parts.append("\(proto.rawValue) \(dir == .source ? "sport" : "dport") != \(p.first)-\(p.last)")
        continue
      }
      parts.append(Self.match(match, dialect: dialect))
    }
    for statement in rule.statements { parts.append(Self.statement(statement)) }
    if let verdict = rule.verdict { parts.append(Self.verdict(verdict, family: family, dialect: dialect)) }
    if let comment { parts.append("comment \(quote(comment))") }
    return parts.joined(separator: " ")
  }

  /// The matches of a rule as the nft script writes them, in order: without a protocol match that a
  /// later header match implies (nft drops it: `ip protocol tcp tcp dport 22` lists as
  /// `tcp dport 22`), and `asRange` for a negated port written as the range `!= P-P` (see
  /// `negatedPortPairs`). The native backend linearizes exactly these, so both backends agree.
  public static func scriptMatches(_ rule: Rule) -> [(match: Match, asRange: Bool)] {
    let implied = Set(rule.matches.compactMap(impliedProtocol))
    let asRange = negatedPortPairs(rule.matches)
    return listingOrder(rule.matches).compactMap { match in
      if !match.negated, case .l4proto(_, .single(let p)) = match.kind, implied.contains(p) { return nil }
      return (match, asRange.contains(match))
    }
  }

  /// The comment every compiled rule carries: `lab.policy:17` or `lab.policy:17: user text`.
  public static func originComment(_ rule: Rule) -> String {
    let origin = rule.location.origin
    guard let comment = rule.comment else { return origin }
    return origin.isEmpty || rule.location.line == 0 ? comment : "\(origin): \(comment)"
  }

  /// nft 1.0.6 merges `udp sport != A udp dport != B` into one compare of both ports, which holds
  /// when either differs: the opposite of what was written. The destination one is written as the
  /// range `!= B-B` (a range compare, never merged) so the kernel gets what the rule says.
  static func negatedPortPairs(_ matches: [Match]) -> Set<Match> {
    var result = Set<Match>()
    for proto in TransportProtocol.allCases {
      func negatedSingle(_ d: Direction) -> Match? {
        matches.first { m in
          guard m.negated, case .port(let p, let dir, .single(let r)) = m.kind else { return false }
          return p == proto && dir == d && r.isSinglePort
        }
      }
      if negatedSingle(.source) != nil, let destination = negatedSingle(.destination) { result.insert(destination) }
    }
    return result
  }

  /// nft merges two exact-value matches on adjacent fields of one header (`ip saddr A … ip daddr B`,
  /// `tcp sport 1 … tcp dport 2`) into one comparison at the first one's place, and lists them
  /// source before destination. The order is the listing's; the meaning is the same.
  static func listingOrder(_ matches: [Match]) -> [Match] {
    func mergeKey(_ m: Match) -> (String, Direction)? {
      guard !m.negated else { return nil }
      switch m.kind {
      case .address(let v, let d, .single(let e)) where e.isSingleAddress: return (v.rawValue, d)
      case .port(let p, let d, .single(let r)) where r.isSinglePort: return (p.rawValue, d)
      default: return nil
      }
    }
    var result: [Match] = []
    var open: [String: (index: Int, direction: Direction)] = [:]  // header -> unmerged match in result
    for m in matches {
      guard let (header, direction) = mergeKey(m) else {
        result.append(m)
        continue
      }
      if let partner = open[header], partner.direction != direction {
        result.insert(m, at: direction == .destination ? partner.index + 1 : partner.index)
        open[header] = nil
        // Indices after the insertion point moved by one.
        for (k, v) in open where v.index >= partner.index { open[k] = (v.index + 1, v.direction) }
      } else {
        open[header] = (result.count, direction)
        result.append(m)
      }
    }
    return result
  }

  /// An anonymous set with any interval becomes an interval set, and nft merges overlapping and
  /// adjacent elements: `{ 10.0.0.0/8, 11.0.0.0/8 }` lists as `{ 10.0.0.0/7 }`.
  public static func mergedAddresses(_ elements: [AddressElement]) -> [AddressElement] {
    guard elements.contains(where: { !$0.isSingleAddress }) else { return Array(Set(elements)) }
    let sorted = elements.map(\.bounds).sorted { $0.0 < $1.0 }
    var merged: [(IPAddress, IPAddress)] = []
    for (lo, hi) in sorted {
      if let last = merged.last, last.1.version == lo.version,
        lo <= last.1 || last.1.successor == lo
      {
        if hi > last.1 { merged[merged.count - 1].1 = hi }
      } else {
        merged.append((lo, hi))
      }
    }
    return merged.map { lo, hi in
      for length in 0...lo.bitWidth where lo.masked(to: length) == lo && lo.lastAddress(prefixLength: length) == hi {
        return .prefix(IPPrefix(address: lo, length: length))
      }
      return .range(lo, hi)
    }
  }

  /// Port sets with a range merge like address sets.
  public static func mergedPorts(_ elements: [PortRange]) -> [PortRange] {
    guard elements.contains(where: { !$0.isSinglePort }) else { return Array(Set(elements)) }
    var merged: [PortRange] = []
    for r in elements.sorted() {
      if let last = merged.last, Int(r.first) <= Int(last.last) + 1 {
        merged[merged.count - 1].last = max(last.last, r.last)
      } else {
        merged.append(r)
      }
    }
    return merged
  }

  static func impliedProtocol(_ match: Match) -> UInt8? {
    switch match.kind {
    case .port(let p, _, _): return p.number
    case .tcpFlags: return 6
    case .icmpType(let v, _), .icmpCode(let v, _): return v == .v4 ? 1 : 58
    default: return nil
    }
  }

  static func op(_ negated: Bool) -> String { negated ? "!= " : "" }

  static func operand<T>(_ o: Operand<T>, sortKey: (T) -> String, _ text: (T) -> String) -> String {
    switch o {
    case .single(let e): return text(e)
    case .named(let n): return "@" + n
    case .set(let es) where es.count == 1:
      // nft loads a one-element set as a plain comparison and lists it so.
      return text(es[0])
    case .set(let es):
      return "{ " + es.sorted { sortKey($0) < sortKey($1) }.map(text).joined(separator: ", ") + " }"
    }
  }

  static func padded(_ n: Int) -> String {
    let s = String(n)
    return String(repeating: "0", count: max(0, 10 - s.count)) + s
  }

  public static func match(_ match: Match, dialect: Dialect = .nft) -> String {
    let neg = op(match.negated)
    switch match.kind {
    case .address(let v, let dir, var o):
      if case .set(let es) = o { o = .set(mergedAddresses(es)) }
      if case .set(let es) = o, es.count == 1 { o = .single(es[0]) }
      let text = operand(o, sortKey: keyFor, { $0.description })
      return "\(v == .v4 ? "ip" : "ip6") \(dir == .source ? "saddr" : "daddr") \(neg)\(text)"
    case .nfproto(let v):
      return "meta nfproto \(neg)\(v == .v4 ? "ipv4" : "ipv6")"
    case .l4proto(let field, let o):
      let name: String
      switch field {
      case .ipProtocol: name = "ip protocol"
      case .ip6NextHeader: name = "ip6 nexthdr"
      case .metaL4proto: name = "meta l4proto"
      }
      return "\(name) \(neg)" + operand(o, sortKey: { padded(Int($0)) }, ProtocolNames.protocolName)
    case .port(let p, let dir, var o):
      if case .set(let es) = o { o = .set(mergedPorts(es)) }
      return "\(p.rawValue) \(dir == .source ? "sport" : "dport") \(neg)"
        + operand(o, sortKey: { padded(Int($0.first)) + padded(Int($0.last)) }, { $0.description })
    case .icmpType(let v, let o):
      let table = ProtocolNames.icmpTypeTable(v)
      return "\(v == .v4 ? "icmp" : "icmpv6") type \(neg)"
        + operand(o, sortKey: { padded(Int($0)) }, { ProtocolNames.name($0, in: table) })
    case .icmpCode(let v, let o):
      let table = ProtocolNames.icmpCodeTable(v)
      return "\(v == .v4 ? "icmp" : "icmpv6") code \(neg)"
        + operand(o, sortKey: { padded(Int($0)) }, { ProtocolNames.name($0, in: table) })
    case .interface(let dir, let o):
      return "\(dir == .input ? "iifname" : "oifname") \(neg)"
        + operand(o, sortKey: { $0.description }, { quote($0.description) })
    case .interfaceIndex(let dir, let o):
      return "\(dir == .input ? "iif" : "oif") \(neg)" + operand(o, sortKey: { $0 }, { quote($0) })
    case .bridgePort(let dir, let port):
      // Rejected by `unsupported`; kept readable for error messages.
      return "physdev \(dir == .input ? "in" : "out") \(neg)\(quote(port.description))"
    case .addressType(let direction, let types):
      let names = types.sorted().map(\.rawValue)
      let list = names.count == 1 ? names[0] : "{ " + names.joined(separator: ", ") + " }"
      return "fib \(direction == .source ? "saddr" : "daddr") type \(neg)\(list)"
    case .ctState(let states):
      // A negated flag list is miscompiled by nft 1.0.6 (`!= new,untracked` becomes "state is not
      // exactly new|untracked", true for every packet); a negated set means "none of them".
      let names = states.sorted().map(\.rawValue)
      if match.negated && names.count > 1 { return "ct state != { " + names.joined(separator: ", ") + " }" }
      return "ct state \(neg)" + names.joined(separator: ",")
    case .mark(let value, let mask):
      if let mask {
        return "meta mark & \(hex(mask)) \(match.negated ? "!=" : "==") \(hex(value))"
      }
      return "meta mark \(neg)\(hex(value))"
    case .ctMark(let value, let mask):
      if let mask {
        return "ct mark & \(hex(mask)) \(match.negated ? "!=" : "==") \(hex(value))"
      }
      return "ct mark \(neg)\(hex(value))"
    case .etherSource(let o):
      return "ether saddr \(neg)" + operand(o, sortKey: { $0.description }, { $0.description })
    case .tcpFlags(let value, let mask):
      // nft 1.0.6's forms: `! fin,rst` for (flags & mask) == 0, a bare list for != 0, and
      // `& syn == syn` when the mask is one flag (its `/` syntax needs two).
      if value.isEmpty { return "tcp flags " + (match.negated ? "" : "! ") + "\(mask)" }
      if mask.flagNames.count == 1 { return "tcp flags & \(mask) \(match.negated ? "!=" : "==") \(value)" }
      return "tcp flags \(neg)\(value) / \(mask)"
    case .limit(let limit):
      return Self.limit(limit)
    case .opaque(let opaque):
      // nft text is itself in a script; everything else is shown (in policies, traces and
      // errors) as the policy language writes it.
      return opaque.syntax == .nft && dialect == .nft
        ? opaque.text : "\(opaque.syntax.rawValue) \(quote(opaque.text))"
    }
  }

  static func keyFor(_ e: AddressElement) -> String {
    let (lo, hi) = e.bounds
    return sortable(lo) + sortable(hi)
  }

  static func sortable(_ a: IPAddress) -> String {
    switch a {
    case .v4(let v): return "4" + padded(Int(v))
    case .v6(let h, let l):
      return "6" + String(h, radix: 16).leftPad(16) + String(l, radix: 16).leftPad(16)
    }
  }

  public static func limit(_ limit: RateLimit) -> String {
    var s = "limit rate " + (limit.over ? "over " : "")
    if limit.quantity == .packets {
      s += "\(limit.rate)/\(limit.unit.rawValue)"
      if let burst = limit.burst, burst != RateLimit.defaultBurst { s += " burst \(burst) packets" }
    } else {
      s += bytesText(limit.rate) + "/\(limit.unit.rawValue)"
      if let burst = limit.burst, burst != 0 { s += " burst \(bytesText(UInt64(burst)))" }
    }
    return s
  }

  static func bytesText(_ n: UInt64) -> String {
    if n % (1024 * 1024) == 0 { return "\(n / (1024 * 1024)) mbytes" }
    if n % 1024 == 0 { return "\(n / 1024) kbytes" }
    return "\(n) bytes"
  }

  public static func statement(_ statement: Statement) -> String {
    switch statement.kind {
    case .counter:
      return "counter"
    case .log(let prefix, let level):
      var s = "log"
      if let prefix { s += " prefix \(quote(prefix))" }
      if let level, level != .warn { s += " level \(level.rawValue)" }
      return s
    case .setMark(let v):
      return "meta mark set \(hex(v))"
    case .setCTMark(let v):
      return "ct mark set \(hex(v))"
    case .saveMark:
      return "ct mark set meta mark"
    case .restoreMark:
      return "meta mark set ct mark"
    }
  }

  public static func verdict(_ verdict: Verdict, family: Family, dialect: Dialect = .nft) -> String {
    switch verdict {
    case .accept: return "accept"
    case .drop: return "drop"
    case .return: return "return"
    case .continue: return "continue"
    case .jump(let c): return "jump \(chainName(c, dialect: dialect))"
    case .goto(let c): return "goto \(chainName(c, dialect: dialect))"
    case .reject(nil): return "reject"
    case .reject(.some(let kind)):
      switch kind {
      case .tcpReset: return "reject with tcp reset"
      case .icmp(let c):
        return c == .portUnreachable && family == .ip ? "reject" : "reject with icmp \(c.rawValue)"
      case .icmpv6(let c):
        return c == .portUnreachable && family == .ip6 ? "reject" : "reject with icmpv6 \(c.rawValue)"
      case .icmpx(let c):
        return c == .portUnreachable && family == .inet ? "reject" : "reject with icmpx \(c.rawValue)"
      }
    case .snat(let d): return "snat \(natFamily(d, family))to \(natText(d))"
    case .dnat(let d): return "dnat \(natFamily(d, family))to \(natText(d))"
    case .masquerade(let ports): return "masquerade" + (ports.map { " to :\($0)" } ?? "")
    case .redirect(let ports): return "redirect" + (ports.map { " to :\($0)" } ?? "")
    case .opaque(let target):
      switch (target.syntax, dialect) {
      case (.nft, .nft): return target.text
      case (.nft, .policy): return "nft statement \(quote(target.text))"
      default: return "\(target.syntax.rawValue) \(quote(target.text))"
      }
    }
  }

  static func natFamily(_ d: NATDestination, _ family: Family) -> String {
    family == .inet ? (d.version == .v4 ? "ip " : "ip6 ") : ""
  }

  static func natText(_ d: NATDestination) -> String {
    var s = d.address.description
    if let last = d.lastAddress { s += "-\(last)" }
    if let ports = d.ports { s += ":\(ports)" }
    return s
  }

  public static func hex(_ v: UInt32) -> String {
    "0x" + String(v, radix: 16).leftPad(8)
  }

  /// True when nft reads `name` as an identifier (a chain, table or set name): a letter, `_` or
  /// `.`, then letters, digits and `/-_.`. nft 1.0.6 takes no quoted names.
  public static func isIdentifier(_ name: String) -> Bool {
    guard let first = name.unicodeScalars.first, first.isASCII,
      first.properties.isAlphabetic || first == "_" || first == "."
    else { return false }
    return name.unicodeScalars.allSatisfy { c in
      c.isASCII && (c.properties.isAlphabetic || ("0"..."9").contains(c) || "/-_.".unicodeScalars.contains(c))
    }
  }

  /// A chain name as written: bare in nft, quoted in a policy when nft could not read it (an
  /// iptables chain such as `DOS~Pro-t_ect`, which only the iptables backend can compile).
  public static func chainName(_ name: String, dialect: Dialect) -> String {
    dialect == .policy && !isIdentifier(name) ? quote(name) : name
  }

  public static func quote(_ s: String) -> String {
    "\"" + s.replacingAll("\\", with: "\\\\").replacingAll("\"", with: "\\\"") + "\""
  }
}

extension String {
  func leftPad(_ width: Int) -> String {
    count >= width ? self : String(repeating: "0", count: width - count) + self
  }
  func replacingAll(_ target: Character, with replacement: String) -> String {
    var out = ""
    for c in self { if c == target { out += replacement } else { out.append(c) } }
    return out
  }
}
