import NetfilterModel

/// Compiles a ruleset to nft script text in the exact form `nft list ruleset` prints it back,
/// so loading the script and listing the kernel shows the same text (counters aside).
///
/// Equivalent to writing the tables by hand and running `nft -f FILE`: the whole file is one
/// transaction, and the script first deletes the tables it declares so re-running it replaces them.
public struct NFTScript {
  public init() {}

  /// Everything the nft backend cannot express, each at its policy line.
  public func unsupported(_ ruleset: Ruleset) -> [Diagnostic] {
    var diagnostics: [Diagnostic] = []
    for table in ruleset.tables {
      if !table.family.isIP {
        diagnostics.append(
          .error("the nft backend of Firebreak supports the ip, ip6 and inet families; \(table.family.rawValue) tables are not supported yet", at: table.location))
        continue
      }
      for chain in table.chains {
        for rule in chain.rules {
          for m in rule.matches {
            if case .bridgePort = m.kind {
              diagnostics.append(
                .error(
                  "nftables has no bridge-port (physdev) match in the \(table.family.rawValue) family; use --backend iptables or match the bridge with iifname",
                  at: m.location))
            }
          }
        }
      }
    }
    return diagnostics
  }

  /// The script: a header, a delete of each declared table (created first so the delete cannot
  /// fail), then the tables as `nft list ruleset` shows them.
  public func compile(_ ruleset: Ruleset, source: String? = nil) throws -> String {
    let problems = unsupported(ruleset)
    if !problems.isEmpty { throw DiagnosticList(problems) }
    var out = "#!/usr/sbin/nft -f\n"
    if let source { out += "# Compiled by firebreak from \(source). Load with: nft -f FILE\n" }
    for table in ruleset.tables {
      out += "table \(table.family.rawValue) \(table.name)\n"
      out += "delete table \(table.family.rawValue) \(table.name)\n"
    }
    return out + listing(ruleset)
  }

  /// The tables as `nft list ruleset` prints them (tabs, sets before chains, blank line between).
  public func listing(_ ruleset: Ruleset) -> String {
    var out = ""
    for table in ruleset.tables {
      out += "table \(table.family.rawValue) \(table.name) {\n"
      var blocks: [String] = []
      for set in table.sets { blocks.append(render(set)) }
      for chain in table.chains { blocks.append(render(chain, in: table)) }
      out += blocks.joined(separator: "\n")
      out += "}\n"
    }
    return out
  }

  func render(_ set: NamedSet) -> String {
    var s = "\tset \(set.name) {\n\t\ttype \(set.type.rawValue)\n"
    if set.needsInterval { s += "\t\tflags interval\n" }
    if !set.elements.isEmpty {
      s += "\t\telements = { " + sortedElements(set.elements).joined(separator: ", ") + " }\n"
    }
    return s + "\t}\n"
  }

  func sortedElements(_ elements: [SetElement]) -> [String] {
    let addresses = elements.compactMap { e -> AddressElement? in
      if case .address(let a) = e { return a }
      return nil
    }
    if !addresses.isEmpty { return addresses.sorted().map(\.description) }
    return elements.map { e -> (String, Int) in
      switch e {
      case .port(let p): return (p.description, Int(p.first))
      case .proto(let p): return (ProtocolNames.protocolName(p), Int(p))
      case .interface(let i): return ("\"\(i)\"", 0)
      case .ether(let m): return (m.description, 0)
      case .mark(let m): return (hex(m), Int(m))
      case .address(let a): return (a.description, 0)
      }
    }.sorted { ($0.1, $0.0) < ($1.1, $1.0) }.map(\.0)
  }

  func render(_ chain: Chain, in table: Table) -> String {
    var s = "\tchain \(chain.name) {\n"
    if let base = chain.base {
      s += "\t\ttype \(base.type.rawValue) hook \(base.hook.rawValue)"
      if let device = base.device { s += " device \"\(device)\"" }
      s += " priority \(priorityText(base.priority.value, hook: base.hook)); policy \(base.policy.rawValue);\n"
    }
    for rule in chain.rules {
      s += "\t\t" + render(rule, family: table.family) + "\n"
    }
    return s + "\t}\n"
  }

  /// nft prints a priority as a standard name (± up to 10) when the name is valid on the hook.
  public func priorityText(_ value: Int, hook: Hook) -> String {
    for name in Priority.Name.allCases where name.isValid(on: hook) && abs(value - name.value) <= 10 {
      return Priority(name: name, offset: value - name.value).description
    }
    return String(value)
  }

  /// One rule in nft syntax, as listed.
  public func render(_ rule: Rule, family: Family) -> String {
    var parts: [String] = []
    // nft drops a protocol match that a later header match implies (`ip protocol tcp tcp dport 22`
    // lists as `tcp dport 22`); do the same so the listing equals the script.
    let implied = Set(rule.matches.compactMap(impliedProtocol))
    for match in rule.matches {
      if !match.negated, case .l4proto(_, .single(let p)) = match.kind, implied.contains(p) { continue }
      parts.append(render(match))
    }
    for statement in rule.statements { parts.append(render(statement)) }
    if let verdict = rule.verdict { parts.append(render(verdict, family: family)) }
    parts.append("comment \(quote(originComment(rule)))")
    return parts.joined(separator: " ")
  }

  /// The comment every compiled rule carries: `lab.policy:17` or `lab.policy:17: user text`.
  public func originComment(_ rule: Rule) -> String {
    let origin = rule.location.origin
    guard let comment = rule.comment else { return origin }
    return origin.isEmpty || rule.location.line == 0 ? comment : "\(origin): \(comment)"
  }

  func impliedProtocol(_ match: Match) -> UInt8? {
    switch match.kind {
    case .port(let p, _, _): return p.number
    case .tcpFlags: return 6
    case .icmpType(let v, _), .icmpCode(let v, _): return v == .v4 ? 1 : 58
    default: return nil
    }
  }

  func op(_ negated: Bool) -> String { negated ? "!= " : "" }

  func operand<T>(_ o: Operand<T>, sortKey: (T) -> String, _ text: (T) -> String) -> String {
    switch o {
    case .single(let e): return text(e)
    case .named(let n): return "@" + n
    case .set(let es):
      return "{ " + es.sorted { sortKey($0) < sortKey($1) }.map(text).joined(separator: ", ") + " }"
    }
  }

  func padded(_ n: Int) -> String {
    let s = String(n)
    return String(repeating: "0", count: max(0, 10 - s.count)) + s
  }

  func render(_ match: Match) -> String {
    let neg = op(match.negated)
    switch match.kind {
    case .address(let v, let dir, let o):
      let text = operand(o, sortKey: keyFor, { $0.description })
      return "\(v == .v4 ? "ip" : "ip6") \(dir == .source ? "saddr" : "daddr") \(neg)\(text)"
    case .l4proto(let field, let o):
      let name: String
      switch field {
      case .ipProtocol: name = "ip protocol"
      case .ip6NextHeader: name = "ip6 nexthdr"
      case .metaL4proto: name = "meta l4proto"
      }
      return "\(name) \(neg)" + operand(o, sortKey: { padded(Int($0)) }, ProtocolNames.protocolName)
    case .port(let p, let dir, let o):
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
    case .bridgePort(let dir, let port):
      // Rejected by `unsupported`; kept readable for error messages.
      return "physdev \(dir == .input ? "in" : "out") \(neg)\(quote(port.description))"
    case .ctState(let states):
      // nft lists a negated state list as `!= established | new`.
      return "ct state \(neg)" + states.sorted().map(\.rawValue).joined(separator: match.negated ? " | " : ",")
    case .mark(let value, let mask):
      if let mask {
        return "meta mark & \(hex(mask)) \(match.negated ? "!=" : "==") \(hex(value))"
      }
      return "meta mark \(neg)\(hex(value))"
    case .etherSource(let o):
      return "ether saddr \(neg)" + operand(o, sortKey: { $0.description }, { $0.description })
    case .tcpFlags(let value, let mask):
      return "tcp flags \(neg)\(value) / \(mask)"
    case .limit(let limit):
      return limitText(limit)
    }
  }

  func keyFor(_ e: AddressElement) -> String {
    let (lo, hi) = e.bounds
    return sortable(lo) + sortable(hi)
  }

  func sortable(_ a: IPAddress) -> String {
    switch a {
    case .v4(let v): return "4" + padded(Int(v))
    case .v6(let h, let l):
      return "6" + String(h, radix: 16).leftPad(16) + String(l, radix: 16).leftPad(16)
    }
  }

  func limitText(_ limit: RateLimit) -> String {
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

  func bytesText(_ n: UInt64) -> String {
    if n % (1024 * 1024) == 0 { return "\(n / (1024 * 1024)) mbytes" }
    if n % 1024 == 0 { return "\(n / 1024) kbytes" }
    return "\(n) bytes"
  }

  func render(_ statement: Statement) -> String {
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
    }
  }

  func render(_ verdict: Verdict, family: Family) -> String {
    switch verdict {
    case .accept: return "accept"
    case .drop: return "drop"
    case .return: return "return"
    case .continue: return "continue"
    case .jump(let c): return "jump \(c)"
    case .goto(let c): return "goto \(c)"
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
    }
  }

  func natFamily(_ d: NATDestination, _ family: Family) -> String {
    family == .inet ? (d.version == .v4 ? "ip " : "ip6 ") : ""
  }

  func natText(_ d: NATDestination) -> String {
    var s = d.address.description
    if let last = d.lastAddress { s += "-\(last)" }
    if let ports = d.ports { s += ":\(ports)" }
    return s
  }

  func hex(_ v: UInt32) -> String {
    "0x" + String(v, radix: 16).leftPad(8)
  }

  func quote(_ s: String) -> String {
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
