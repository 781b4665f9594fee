import NetfilterModel

/// Checks what only the whole ruleset can tell: chain graph (unknown targets, loops, jumps to base
/// chains), hook/type combinations the kernel refuses, sets, and statements that need a context
/// (NAT in nat chains on the right hooks, reject where the kernel allows it, protocol dependencies).
public struct RulesetValidator {
  let ruleset: Ruleset

  public init(ruleset: Ruleset) { self.ruleset = ruleset }

  /// Longest comment the backends can carry with the origin prefix (nft allows 128 bytes with NUL).
  public static let maximumCommentBytes = 127

  public func validate() -> [Diagnostic] {
    var diagnostics: [Diagnostic] = []
    for table in ruleset.tables {
      diagnostics += validate(table)
    }
    return diagnostics
  }

  func validate(_ table: Table) -> [Diagnostic] {
    var diagnostics: [Diagnostic] = []
    let chainsByName = Dictionary(table.chains.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })

    // Base chains: what the kernel accepts.
    for chain in table.chains {
      guard let base = chain.base else { continue }
      if table.family.isIP {
        if base.hook == .ingress && table.family != .inet {
          diagnostics.append(
            .error(
              "hook ingress is not available in an \(table.family.rawValue) table (use inet or netdev with a device)",
              at: base.location))
        }
        if base.hook == .ingress && base.device == nil {
          diagnostics.append(.error("an ingress chain needs 'device NAME'", at: base.location))
        }
        if !base.type.allowedHooks.contains(base.hook) {
          diagnostics.append(
            .error(
              "a \(base.type.rawValue) chain cannot use hook \(base.hook.rawValue) (allowed: \(base.type.allowedHooks.sorted().map(\.rawValue).joined(separator: ", ")))",
              at: base.location))
        }
        if base.type == .nat && base.priority.value <= -200 {
          diagnostics.append(
            .error(
              "a nat chain needs a priority above -200 (conntrack runs at -200); \(base.priority.value) is refused by the kernel",
              at: base.location))
        }
      }
      if base.device != nil && base.hook != .ingress {
        diagnostics.append(.error("'device' is only valid for an ingress chain", at: base.location))
      }
    }

    // The chain graph: unknown targets, jumps to base chains, loops.
    var edges: [String: [(String, SourceLocation)]] = [:]
    for chain in table.chains {
      for rule in chain.rules {
        guard let target = rule.verdict?.targetChain else { continue }
        guard let dest = chainsByName[target] else {
          diagnostics.append(
            .error(
              "\(verb(rule)) to unknown chain '\(target)' in table \(table.family.rawValue) \(table.name)",
              at: rule.verdictLocation))
          continue
        }
        if dest.base != nil {
          diagnostics.append(
            .error(
              "cannot \(verb(rule)) to base chain '\(target)'; only regular chains can be jump targets",
              at: rule.verdictLocation))
          continue
        }
        edges[chain.name, default: []].append((target, rule.verdictLocation))
      }
    }
    diagnostics += findLoops(table, edges: edges)

    // Contexts: which base chains reach each chain.
    var contexts: [String: Set<Context>] = [:]
    for chain in table.chains {
      guard let base = chain.base else { continue }
      var stack = [chain.name]
      var seen: Set<String> = []
      while let name = stack.popLast() {
        guard seen.insert(name).inserted else { continue }
        contexts[name, default: []].insert(Context(type: base.type, hook: base.hook))
        for (next, _) in edges[name] ?? [] { stack.append(next) }
      }
    }

    for chain in table.chains {
      for rule in chain.rules {
        diagnostics += validate(rule, in: table, contexts: contexts[chain.name] ?? [])
      }
    }

    // nft refuses overlapping intervals in a named set ("conflicting intervals specified").
    for set in table.sets {
      let intervals = set.elements.compactMap { e -> (AddressElement, (IPAddress, IPAddress))? in
        if case .address(let a) = e { return (a, a.bounds) } else { return nil }
      }.sorted { $0.1.0 < $1.1.0 }
      for (a, b) in zip(intervals, intervals.dropFirst()) where b.1.0 <= a.1.1 {
        diagnostics.append(
          .error(
            "elements \(a.0) and \(b.0) of set '\(set.name)' overlap; nft refuses overlapping intervals in a named set",
            at: set.location))
        break
      }
      let ports = set.elements.compactMap { e -> PortRange? in if case .port(let p) = e { return p } else { return nil }
      }.sorted()
      for (a, b) in zip(ports, ports.dropFirst()) where b.first <= a.last {
        diagnostics.append(
          .error(
            "elements \(a) and \(b) of set '\(set.name)' overlap; nft refuses overlapping intervals in a named set",
            at: set.location))
        break
      }
    }
    return diagnostics
  }

  struct Context: Hashable {
    var type: ChainType
    var hook: Hook
  }

  func verb(_ rule: Rule) -> String {
    if case .goto = rule.verdict { return "goto" }
    return "jump"
  }

  func findLoops(_ table: Table, edges: [String: [(String, SourceLocation)]]) -> [Diagnostic] {
    var diagnostics: [Diagnostic] = []
    var state: [String: Int] = [:]  // 1 = on the stack, 2 = done
    var reported: Set<String> = []
    func visit(_ name: String, path: [String]) {
      state[name] = 1
      for (next, location) in edges[name] ?? [] {
        if state[next] == 1 {
          let cycle = (path.drop { $0 != next } + [name, next])
          let text = cycle.joined(separator: " -> ")
          if reported.insert(text).inserted {
            diagnostics.append(.error("jump loop: \(text); the kernel refuses loops", at: location))
          }
        } else if state[next] == nil {
          visit(next, path: path + [name])
        }
      }
      state[name] = 2
    }
    for chain in table.chains where state[chain.name] == nil { visit(chain.name, path: []) }
    return diagnostics
  }

  func validate(_ rule: Rule, in table: Table, contexts: Set<Context>) -> [Diagnostic] {
    var diagnostics: [Diagnostic] = []
    let family = table.family
    if let empty = rule.emptinessError { diagnostics.append(empty) }

    for match in rule.matches {
      switch match.kind {
      case .address(let version, _, let operand):
        if !family.ipVersions.contains(version) {
          diagnostics.append(
            .error(
              "'\(version == .v4 ? "ip" : "ip6")' match in an \(family.rawValue) table, which never sees \(version == .v4 ? "IPv4" : "IPv6")",
              at: match.location))
        }
        diagnostics += checkSet(
          operand, in: table, accepts: [version == .v4 ? .ipv4Address : .ipv6Address], at: match.location)
      case .l4proto(let field, let operand):
        if field == .ipProtocol && family == .ip6 || field == .ip6NextHeader && family == .ip {
          diagnostics.append(
            .error(
              "'\(field == .ipProtocol ? "ip protocol" : "ip6 nexthdr")' in an \(family.rawValue) table",
              at: match.location))
        }
        diagnostics += checkSet(operand, in: table, accepts: [.inetProto], at: match.location)
      case .port(_, _, let operand):
        diagnostics += checkSet(operand, in: table, accepts: [.inetService], at: match.location)
      case .icmpType(let version, let operand), .icmpCode(let version, let operand):
        if case .named(let name) = operand {
          diagnostics.append(
            .error(
              "icmp types and codes cannot come from a named set ('@\(name)'); write them inline: { echo-request, echo-reply }",
              at: match.location))
        }
        if !family.ipVersions.contains(version) {
          diagnostics.append(
            .error("'\(version == .v4 ? "icmp" : "icmpv6")' match in an \(family.rawValue) table", at: match.location))
        }
      case .interface(_, let operand):
        diagnostics += checkSet(operand, in: table, accepts: [.interfaceName], at: match.location)
      case .etherSource(let operand):
        diagnostics += checkSet(operand, in: table, accepts: [.etherAddress], at: match.location)
      case .ctState(let states):
        if states.isEmpty { diagnostics.append(.error("empty ct state", at: match.location)) }
      case .interfaceIndex(_, let operand):
        if case .named = operand {
          diagnostics.append(.error("iif and oif take interface names, not a named set", at: match.location))
        }
      case .nfproto:
        if family != .inet {
          diagnostics.append(
            .error(
              "'meta nfproto' in an \(family.rawValue) table: nft accepts it only in inet tables (the table's family already decides)",
              at: match.location))
        }
      case .addressType(_, let types):
        if types.isEmpty { diagnostics.append(.error("empty address type list", at: match.location)) }
      case .bridgePort, .mark, .ctMark, .tcpFlags, .limit, .opaque:
        break
      }
    }

    // Header matches depend on their protocol; two different ones can never both hold, and nft
    // refuses such a rule ("conflicting protocols").
    var implied: [(UInt8, Match)] = []
    for m in rule.matches {
      switch m.kind {
      case .port(let p, _, _): implied.append((p.number, m))
      case .tcpFlags: implied.append((6, m))
      case .icmpType(let v, _), .icmpCode(let v, _): implied.append((v == .v4 ? 1 : 58, m))
      case .l4proto(_, .single(let p)) where !m.negated: implied.append((p, m))
      default: break
      }
    }
    let headerMatch = implied.first { if case .l4proto = $0.1.kind { return false } else { return true } }
    if let header = headerMatch,
      let set = rule.matches.first(where: { m in
        if case .l4proto(_, .set) = m.kind { return !m.negated } else { return false }
      })
    {
      diagnostics.append(
        .error(
          "a protocol set cannot come with a \(ProtocolNames.protocolName(header.0)) header match (nft refuses it); match one protocol, e.g. 'meta l4proto \(ProtocolNames.protocolName(header.0))'",
          at: set.location))
    } else if let first = implied.first, let clash = implied.first(where: { $0.0 != first.0 }) {
      diagnostics.append(
        .error(
          "conflicting protocols: this rule needs both \(ProtocolNames.protocolName(first.0)) and \(ProtocolNames.protocolName(clash.0)), so it can never match (nft refuses it)",
          at: clash.1.location))
    }

    if let comment = rule.comment {
      let total = comment.utf8.count + rule.location.origin.utf8.count + 2
      if total > RulesetValidator.maximumCommentBytes {
        diagnostics.append(
          .error(
            "comment is too long: with its origin '\(rule.location.origin): ' it takes \(total) bytes; the limit is \(RulesetValidator.maximumCommentBytes)",
            at: rule.location))
      }
    }

    guard let verdict = rule.verdict else { return diagnostics }
    let at = rule.verdictLocation
    switch verdict {
    case .reject(let kind):
      for c in contexts where ![.prerouting, .input, .forward, .output].contains(c.hook) || c.type != .filter {
        diagnostics.append(
          .error(
            "reject is only allowed in filter chains on prerouting, input, forward and output; this rule is reached from a \(c.type.rawValue) chain on \(c.hook.rawValue)",
            at: at))
        break
      }
      if kind == .tcpReset && !matchesOnlyTCP(rule) {
        diagnostics.append(
          .error(
            "'reject with tcp reset' needs the rule to match TCP only (add 'meta l4proto tcp' or a 'tcp' match)", at: at
          ))
      }
      if case .icmpx = kind, family != .inet {
        diagnostics.append(.error("'reject with icmpx' is only for inet tables; use icmp or icmpv6", at: at))
      }
    case .snat, .masquerade, .dnat, .redirect:
      let source: Bool
      if case .snat = verdict {
        source = true
      } else if case .masquerade = verdict {
        source = true
      } else {
        source = false
      }
      let allowed: [Hook] = source ? [.postrouting, .input] : [.prerouting, .output]
      let name = natName(verdict)
      for c in contexts where c.type != .nat || !allowed.contains(c.hook) {
        diagnostics.append(
          .error(
            "\(name) is only allowed in nat chains on \(allowed.map(\.rawValue).joined(separator: " and ")); this rule is reached from a \(c.type.rawValue) chain on \(c.hook.rawValue)",
            at: at))
        break
      }
      if natPorts(verdict) != nil && !matchesOnlyTCPOrUDP(rule) {
        diagnostics.append(
          .error(
            "\(name) to a port needs the rule to match tcp or udp (add 'meta l4proto tcp' or a port match)", at: at))
      }
      if case .snat(let d) = verdict, !family.ipVersions.contains(d.version) {
        diagnostics.append(.error("NAT address family does not fit the table", at: at))
      }
      if case .dnat(let d) = verdict, !family.ipVersions.contains(d.version) {
        diagnostics.append(.error("NAT address family does not fit the table", at: at))
      }
    default:
      break
    }
    return diagnostics
  }

  func natName(_ v: Verdict) -> String {
    switch v {
    case .snat: return "snat"
    case .dnat: return "dnat"
    case .masquerade: return "masquerade"
    default: return "redirect"
    }
  }

  func natPorts(_ v: Verdict) -> PortRange? {
    switch v {
    case .snat(let d), .dnat(let d): return d.ports
    case .masquerade(let p), .redirect(let p): return p
    default: return nil
    }
  }

  /// The protocols a rule restricts itself to, if it does.
  static func protocols(of rule: Rule) -> Set<UInt8>? {
    var result: Set<UInt8>?
    for m in rule.matches where !m.negated {
      var these: Set<UInt8>?
      switch m.kind {
      case .l4proto(_, .single(let p)): these = [p]
      case .l4proto(_, .set(let ps)): these = Set(ps)
      case .port(let proto, _, _): these = [proto.number]
      case .tcpFlags: these = [6]
      default: break
      }
      if let these { result = result.map { $0.intersection(these) } ?? these }
    }
    return result
  }

  func matchesOnlyTCP(_ rule: Rule) -> Bool {
    RulesetValidator.protocols(of: rule) == [6]
  }

  func matchesOnlyTCPOrUDP(_ rule: Rule) -> Bool {
    guard let p = RulesetValidator.protocols(of: rule), !p.isEmpty else { return false }
    return p.isSubset(of: [6, 17])
  }

  func checkSet<T>(_ operand: Operand<T>, in table: Table, accepts: [SetType], at location: SourceLocation)
    -> [Diagnostic]
  {
    guard case .named(let name) = operand else { return [] }
    guard let set = table.set(name) else {
      return [.error("unknown set '@\(name)' in table \(table.family.rawValue) \(table.name)", at: location)]
    }
    if !accepts.contains(set.type) {
      return [
        .error(
          "set '@\(name)' holds \(set.type.rawValue) elements; this match needs \(accepts.map(\.rawValue).joined(separator: " or "))",
          at: location, notes: [.init("set declared here", at: set.location)])
      ]
    }
    return []
  }
}
