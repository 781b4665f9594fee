import NetfilterModel

/// Turns one policy rule into the iptables rules that match exactly the same packets, for one IP
/// version, or into diagnostics saying why iptables cannot.
///
/// A set in a match becomes one rule per element (iptables has no anonymous sets); a rule with
/// statements becomes one rule per action with the same matches (iptables has one target per
/// rule). Both splits are checked for exactness before anything is emitted.
struct RuleTranslator {
  /// The policy table the rule is in (named sets are looked up here).
  var table: Table
  /// The iptables table the rule goes to.
  var builtin: BuiltinTable
  /// The chain the rule is in.
  var chain: Chain
  /// Every hook the chain can be reached from (its own hook for a base chain).
  var hooks: Set<Hook>
  /// Whether comments name the policy line (see `IPTablesCompiler.originComments`).
  var originComments = true

  /// Alternatives for one match: the rule is emitted once per alternative.
  struct Dimension {
    var alternatives: [[RulePiece]]
    /// True when no packet can satisfy two alternatives.
    var disjoint: Bool
  }

  static let suggestion = "; use --backend nft"
  /// The most rules one policy rule may expand into.
  static let maximumExpansion = 4096

  // MARK: - Versions

  /// The IP versions the rule applies to in a table of `family`, or diagnostics when its matches
  /// name both versions or a version the table does not see.
  func versions(of rule: Rule) -> ([IPVersion], [Diagnostic]) {
    var required: [(IPVersion, SourceLocation, String)] = []
    for match in rule.matches {
      switch match.kind {
      case .address(let v, _, _): required.append((v, match.location, v == .v4 ? "ip" : "ip6"))
      case .l4proto(.ipProtocol, _): required.append((.v4, match.location, "ip protocol"))
      case .l4proto(.ip6NextHeader, _): required.append((.v6, match.location, "ip6 nexthdr"))
      case .icmpType(let v, _), .icmpCode(let v, _):
        required.append((v, match.location, v == .v4 ? "icmp" : "icmpv6"))
      case .nfproto(let v):
        let other: IPVersion = v == .v4 ? .v6 : .v4
        required.append(
          (
            match.negated ? other : v, match.location,
            "meta nfproto \(match.negated ? "!= " : "")\(v == .v4 ? "ipv4" : "ipv6")"
          ))
      default: break
      }
    }
    switch rule.verdict {
    case .reject(.icmp): required.append((.v4, rule.verdictLocation, "reject with icmp"))
    case .reject(.icmpv6): required.append((.v6, rule.verdictLocation, "reject with icmpv6"))
    case .snat(let d), .dnat(let d):
      required.append((d.version, rule.verdictLocation, d.version == .v4 ? "IPv4 NAT address" : "IPv6 NAT address"))
    default: break
    }
    var diagnostics: [Diagnostic] = []
    var versions = table.family.ipVersions
    for (version, location, what) in required {
      let name = version == .v4 ? "IPv4" : "IPv6"
      if !table.family.ipVersions.contains(version) {
        diagnostics.append(
          .error("'\(what)' is \(name)-only and cannot match in a \(table.family.rawValue) table", at: location))
        return ([], diagnostics)
      }
      if !versions.contains(version) {
        diagnostics.append(
          .error(
            "'\(what)' is \(name)-only but the rule also tests \(version == .v4 ? "IPv6" : "IPv4"); it can never match",
            at: location))
        return ([], diagnostics)
      }
      versions = [version]
    }
    return (versions, diagnostics)
  }

  // MARK: - Translation

  /// The `-A` lines for the rule in IP version `version`, or the reasons iptables cannot express it.
  func translate(_ rule: Rule, version: IPVersion, userChains: Set<String>) -> ([String], [Diagnostic]) {
    var diagnostics: [Diagnostic] = []
    var dimensions: [Dimension] = []

    // The transport protocol: what ports, tcp flags, icmp and tcp-reset imply, then `-p` matches.
    var implied: [(UInt8, SourceLocation, String)] = []
    for match in rule.matches {
      switch match.kind {
      case .port(let p, _, _): implied.append((p.number, match.location, p.rawValue))
      case .tcpFlags: implied.append((6, match.location, "tcp"))
      case .icmpType(let v, _), .icmpCode(let v, _):
        implied.append((v == .v4 ? 1 : 58, match.location, v == .v4 ? "icmp" : "icmpv6"))
      default: break
      }
    }
    if case .reject(.tcpReset) = rule.verdict { implied.append((6, rule.verdictLocation, "tcp reset")) }
    if let first = implied.first, let clash = implied.first(where: { $0.0 != first.0 }) {
      diagnostics.append(
        .error(
          "this rule tests both \(first.2) and \(clash.2); a packet cannot be both, so the rule can never match",
          at: clash.1))
    }
    let l4matches = rule.matches.filter { if case .l4proto = $0.kind { return true } else { return false } }
    if let proto = implied.first?.0 {
      for match in l4matches {
        guard case .l4proto(let field, let operand) = match.kind else { continue }
        if field == .ip6NextHeader { diagnostics.append(nextHeaderError(match)); continue }
        guard let values = resolve(operand, at: match.location, &diagnostics, extract: protoElement) else { continue }
        if values.contains(proto) == match.negated {
          diagnostics.append(
            .error(
              "this protocol match contradicts the rule's \(IPTablesSyntax.protocolName(proto)) test; the rule can never match",
              at: match.location))
        }
      }
      dimensions.append(Dimension(alternatives: [[.proto(proto, negated: false)]], disjoint: true))
    } else if let match = l4matches.first {
      if l4matches.count > 1 {
        diagnostics.append(
          .error("iptables takes one protocol test (-p) per rule" + Self.suggestion, at: l4matches[1].location))
      }
      if case .l4proto(let field, let operand) = match.kind {
        if field == .ip6NextHeader {
          diagnostics.append(nextHeaderError(match))
        } else if let values = resolve(operand, at: match.location, &diagnostics, extract: protoElement) {
          if values.contains(0) {
            diagnostics.append(
              .error("iptables reads protocol 0 as 'every protocol' (-p all)" + Self.suggestion, at: match.location))
          } else if match.negated {
            if values.count > 1 {
              diagnostics.append(
                .error(
                  "iptables can negate only one protocol (! -p); split the set" + Self.suggestion, at: match.location))
            } else if let p = values.first {
              dimensions.append(Dimension(alternatives: [[.proto(p, negated: true)]], disjoint: true))
            }
          } else {
            dimensions.append(
              Dimension(alternatives: values.map { [.proto($0, negated: false)] }, disjoint: true))
          }
        }
      }
    }

    // Interfaces: iptables has one -i and one -o per rule, and refuses them where they are empty.
    var interfaceCount: [Direction: Int] = [:]
    for match in rule.matches {
      guard case .interface(let direction, _) = match.kind else { continue }
      interfaceCount[direction, default: 0] += 1
      if interfaceCount[direction]! > 1 {
        diagnostics.append(
          .error(
            "iptables takes one \(direction == .input ? "-i" : "-o") per rule; combine the interface tests"
              + Self.suggestion, at: match.location))
      }
    }

    var sawICMPType = false
    var sawTCPFlags = false
    // iptables cannot read `-m mark … -m connmark … -m mark --mark …` (the second mark's option
    // goes to connmark): connection-mark tests go after every packet-mark test. Matches have no
    // side effects, so their order does not change the rule.
    let ordered =
      rule.matches.filter { if case .ctMark = $0.kind { false } else { true } }
      + rule.matches.filter { if case .ctMark = $0.kind { true } else { false } }
    // One src and one dst address type share a module, as iptables-save prints them.
    let addressTypes = ordered.filter { if case .addressType = $0.kind { true } else { false } }
    let sourceTypes = addressTypes.filter { if case .addressType(.source, _) = $0.kind { true } else { false } }
    let pairedAddressTypes = addressTypes.count == 2 && sourceTypes.count == 1
    var addressTypeDone = false
    for match in ordered {
      switch match.kind {
      case .addressType:
        if pairedAddressTypes {
          if addressTypeDone { continue }
          addressTypeDone = true
          let destination = addressTypes.filter { $0 != sourceTypes[0] }
          let text = (sourceTypes + destination).map { Self.addressTypeOption($0, version, &diagnostics) }
            .joined(separator: " ")
          dimensions.append(fixed(.module("-m addrtype " + text)))
        } else {
          dimensions.append(fixed(.module("-m addrtype " + Self.addressTypeOption(match, version, &diagnostics))))
        }

      case .address(_, let direction, let operand):
        guard var elements = resolve(operand, at: match.location, &diagnostics, extract: addressElement) else {
          continue
        }
        // Overlapping and adjacent elements merge (as nft does for interval sets): the same
        // addresses, fewer rules, and pairwise disjoint so any verdict can be split exactly.
        if elements.allSatisfy({ $0.version == version }) { elements = NFTSyntax.mergedAddresses(elements).sorted() }
        if let wrong = elements.first(where: { $0.version != version }) {
          diagnostics.append(
            .error("address \(wrong) is not an \(version == .v4 ? "IPv4" : "IPv6") address", at: match.location))
          continue
        }
        if match.negated {
          // not in {a, b} is "not a and not b": one rule with several tests.
          dimensions.append(
            Dimension(alternatives: [elements.map { .address(direction, $0, negated: true) }], disjoint: true))
        } else {
          dimensions.append(
            Dimension(
              alternatives: elements.map { [.address(direction, $0, negated: false)] },
              disjoint: Self.disjoint(elements.map { ($0.bounds.0, $0.bounds.1) })))
        }

      case .l4proto:
        continue  // handled with the protocol above
      case .icmpCode(let v, _):
        // Folded into the type match; a code alone has no iptables form.
        if !rule.matches.contains(where: { if case .icmpType(v, _) = $0.kind { return true } else { return false } }) {
          diagnostics.append(
            .error(
              "the iptables icmp match tests a code only together with a type" + Self.suggestion, at: match.location))
        }

      case .port(let proto, let direction, let operand):
        guard let ranges = resolve(operand, at: match.location, &diagnostics, extract: portElement) else { continue }
        dimensions.append(portDimension(proto, direction, ranges, negated: match.negated, isSet: !isSingle(operand)))

      case .icmpType(let v, let operand):
        if sawICMPType {
          diagnostics.append(
            .error(
              "iptables can test one icmp type per rule; combine them into a set" + Self.suggestion, at: match.location)
          )
          continue
        }
        sawICMPType = true
        if let d = icmpDimension(v, operand, match, rule, &diagnostics) { dimensions.append(d) }

      case .interface(let direction, let operand):
        guard let patterns = resolve(operand, at: match.location, &diagnostics, extract: interfaceElement) else {
          continue
        }
        if let problem = patterns.lazy.compactMap({ Self.interfaceProblem($0) }).first {
          diagnostics.append(.error(problem, at: match.location))
          continue
        }
        if let base = chain.base {
          let refused: Set<Hook> = direction == .input ? [.output, .postrouting] : [.prerouting, .input]
          if refused.contains(base.hook) {
            diagnostics.append(
              .error(
                "iptables refuses \(direction == .input ? "-i" : "-o") in the \(chain.name) chain: there is no \(direction == .input ? "input" : "output") interface there"
                  + Self.suggestion, at: match.location))
            continue
          }
        }
        let piece: (InterfacePattern, Bool) -> RulePiece = { pattern, negated in
          let name = IPTablesSyntax.interface(pattern)
          return direction == .input ? .inInterface(name, negated: negated) : .outInterface(name, negated: negated)
        }
        if match.negated {
          if patterns.count > 1 {
            diagnostics.append(
              .error(
                "iptables can negate only one interface (! -i); split the set" + Self.suggestion, at: match.location))
          } else if let p = patterns.first {
            if p.isWildcard && p.name.isEmpty {
              diagnostics.append(
                .error("'!= *' matches no interface name; the rule can never match", at: match.location))
            } else {
              dimensions.append(Dimension(alternatives: [[piece(p, true)]], disjoint: true))
            }
          }
        } else if patterns.count == 1 && patterns[0].isWildcard && patterns[0].name.isEmpty {
          continue  // `*` matches every name; iptables-save drops `-i +` as well
        } else {
          dimensions.append(
            Dimension(alternatives: patterns.map { [piece($0, false)] }, disjoint: Self.disjointPatterns(patterns)))
        }

      case .bridgePort(let direction, let pattern):
        if let problem = Self.interfaceProblem(pattern) {
          diagnostics.append(.error(problem, at: match.location))
          continue
        }
        if direction == .output && hooks.contains(.output) {
          diagnostics.append(
            .error(
              "the kernel refuses --physdev-out in chains reached from OUTPUT" + Self.suggestion, at: match.location))
          continue
        }
        let option = direction == .input ? "--physdev-in" : "--physdev-out"
        let name = IPTablesSyntax.interface(pattern)
        dimensions.append(fixed(.module("-m physdev \(match.negated ? "! " : "")\(option) \(name)")))

      case .ctState(let states):
        if states.isEmpty {
          diagnostics.append(.error("ct state needs at least one state", at: match.location))
          continue
        }
        let names = IPTablesSyntax.ctStateOrder.filter { states.contains($0.0) }.map(\.1).joined(separator: ",")
        dimensions.append(fixed(.module("-m conntrack \(match.negated ? "! " : "")--ctstate \(names)")))

      case .mark(let value, let mask), .ctMark(let value, let mask):
        var text = IPTablesSyntax.hex(value)
        if let mask, mask != .max { text += "/" + IPTablesSyntax.hex(mask) }
        let module = if case .ctMark = match.kind { "connmark" } else { "mark" }
        dimensions.append(fixed(.module("-m \(module) \(match.negated ? "! " : "")--mark \(text)")))

      case .etherSource(let operand):
        let allowed: Set<Hook> = [.prerouting, .input, .forward]
        if !hooks.isSubset(of: allowed) {
          diagnostics.append(
            .error(
              "the kernel allows the mac match only in chains reached from PREROUTING, INPUT or FORWARD"
                + Self.suggestion, at: match.location))
          continue
        }
        guard let macs = resolve(operand, at: match.location, &diagnostics, extract: etherElement) else { continue }
        let module: (MACAddress, Bool) -> RulePiece = { .module("-m mac \($1 ? "! " : "")--mac-source \($0)") }
        if match.negated {
          dimensions.append(Dimension(alternatives: [macs.map { module($0, true) }], disjoint: true))
        } else {
          dimensions.append(Dimension(alternatives: macs.map { [module($0, false)] }, disjoint: true))
        }

      case .tcpFlags(let value, let mask):
        if sawTCPFlags {
          diagnostics.append(
            .error(
              "iptables tests tcp flags once per rule; combine the flag tests" + Self.suggestion, at: match.location))
          continue
        }
        sawTCPFlags = true
        let known = TCPFlags(IPTablesSyntax.tcpFlagNames.map(\.1))
        if !known.isSuperset(of: value.union(mask)) {
          diagnostics.append(
            .error("the iptables tcp match cannot test the ecn and cwr flags" + Self.suggestion, at: match.location))
          continue
        }
        let text = "--tcp-flags \(IPTablesSyntax.tcpFlags(mask)) \(IPTablesSyntax.tcpFlags(value))"
        dimensions.append(fixed(.transport(.tcp, rank: 2, option: (match.negated ? "! " : "") + text, fallback: nil)))

      case .nfproto:
        // `versions(of:)` emits the rule only for the version it holds in.
        continue

      case .interfaceIndex(let direction, _):
        let keyword = direction == .input ? "iif" : "oif"
        diagnostics.append(
          .error(
            "iptables matches interfaces by name only: '\(keyword)' (the interface's index) has no iptables form; write \(keyword)name",
            at: match.location))

      case .opaque(let opaque):
        // Imported as written: emitted as written, so import -> compile gives the same rule.
        guard opaque.syntax == .iptables else {
          diagnostics.append(
            .error("cannot express in iptables: \(opaque.syntax.rawValue) match '\(opaque.text)'", at: match.location))
          continue
        }
        dimensions.append(fixed(.module(opaque.text)))

      case .limit(let limit):
        if let text = limitText(limit, match, &diagnostics) {
          if match.negated {
            diagnostics.append(.error("iptables cannot negate a limit" + Self.suggestion, at: match.location))
          } else {
            dimensions.append(fixed(.module(text)))
          }
        }
      }
    }

    let actions = self.actions(rule, version: version, userChains: userChains, &diagnostics)

    // Splitting a rule (per action or per set element) is exact only when every copy sees the
    // same packets the policy rule would have seen.
    let expansion = dimensions.reduce(1) { $0 * $1.alternatives.count }
    let hasLimit = rule.matches.contains { if case .limit = $0.kind { return true } else { return false } }
    if actions.count > 1 && hasLimit {
      diagnostics.append(
        .error(
          "iptables has one target per rule, so this rule would be split into \(actions.count) rules, each with its own limit bucket"
            + Self.suggestion, at: rule.location))
    }
    if expansion > 1 && hasLimit {
      diagnostics.append(
        .error(
          "iptables has no anonymous sets, so this rule would be split into \(expansion) rules, each with its own limit bucket"
            + Self.suggestion, at: rule.location))
    }
    let terminal = rule.verdict?.isTerminal ?? false
    if !terminal && expansion > 1 && dimensions.contains(where: { !$0.disjoint && $0.alternatives.count > 1 }) {
      diagnostics.append(
        .error(
          "iptables has no anonymous sets; this rule becomes one rule per element, and with overlapping elements and no final verdict a packet would run its actions more than once"
            + Self.suggestion, at: rule.location))
    }
    if expansion > Self.maximumExpansion {
      diagnostics.append(
        .error(
          "this rule would expand into \(expansion) iptables rules (more than \(Self.maximumExpansion))"
            + Self.suggestion, at: rule.location))
    }
    // A rule split into one rule per action re-tests its matches after each action: wrong when an
    // action writes a mark the rule tests.
    for (index, statement) in rule.statements.enumerated()
    where actions.count > 1 && actions.last?.0 != .statement(index) {
      let writes: (packet: Bool, connection: Bool)
      switch statement.kind {
      case .setMark, .restoreMark: writes = (true, false)
      case .setCTMark, .saveMark: writes = (false, true)
      case .counter, .log: continue
      }
      let tests = rule.matches.contains { m in
        switch m.kind {
        case .mark: return writes.packet
        case .ctMark: return writes.connection
        default: return false
        }
      }
      if tests {
        diagnostics.append(
          .error(
            "iptables splits this rule into one rule per action, and the rules after the mark is set would test the new mark"
              + Self.suggestion, at: statement.location))
        break
      }
    }

    let comment: String? =
      originComments ? rule.comment.map { "\(rule.location.origin): \($0)" } ?? rule.location.origin : rule.comment
    if let comment, comment.utf8.count > 255 {
      diagnostics.append(.error("iptables comments hold at most 255 bytes; shorten the comment", at: rule.location))
    }
    if let comment, comment.contains(where: { $0.isNewline }) {
      diagnostics.append(.error("iptables comments cannot contain a line break", at: rule.location))
    }
    guard diagnostics.isEmpty else { return ([], diagnostics) }

    var lines: [String] = []
    var combination = [RuleLine()]
    for dimension in dimensions {
      combination = combination.flatMap { line in
        dimension.alternatives.map { pieces in
          var copy = line
          pieces.forEach { copy.add($0) }
          return copy
        }
      }
    }
    for line in combination {
      for (_, target) in actions {
        lines.append(line.render(chain: chain.name, comment: comment, target: target))
      }
    }
    // NAT ports need a transport protocol with ports in every copy.
    if let ports = Self.natPorts(rule.verdict) {
      let withPorts: Set<UInt8> = [6, 17, 33, 132]
      if combination.contains(where: { !withPorts.contains($0.protocolNumber ?? 0) }) {
        diagnostics.append(
          .error(
            "iptables needs the rule to match tcp, udp, sctp or dccp to map ports (\(IPTablesSyntax.natPorts(ports)))",
            at: rule.verdictLocation))
        return ([], diagnostics)
      }
    }
    return (lines, diagnostics)
  }

  // MARK: - Actions

  /// Where an emitted rule's target came from.
  enum ActionSource: Equatable {
    case statement(Int)
    case verdict
    case none
  }

  /// The targets of the rules a policy rule splits into, in order; one `nil` target for a rule
  /// that only matches (and counts).
  func actions(_ rule: Rule, version: IPVersion, userChains: Set<String>, _ diagnostics: inout [Diagnostic])
    -> [(ActionSource, String?)]
  {
    var actions: [(ActionSource, String?)] = []
    for (index, statement) in rule.statements.enumerated() {
      switch statement.kind {
      case .counter:
        continue  // every iptables rule counts
      case .log(let prefix, let level):
        var text = "-j LOG"
        if let prefix {
          if prefix.utf8.count > 29 {
            diagnostics.append(
              .error("iptables log prefixes hold at most 29 bytes" + Self.suggestion, at: statement.location))
          }
          if prefix.contains(where: { $0.isNewline }) {
            diagnostics.append(
              .error("iptables log prefixes cannot contain a line break" + Self.suggestion, at: statement.location))
          }
          text += " --log-prefix " + IPTablesSyntax.quoted(prefix)
        }
        if let level, level != .warn { text += " --log-level \(level.number)" }
        actions.append((.statement(index), text))
      case .setMark(let value):
        actions.append((.statement(index), "-j MARK --set-xmark \(IPTablesSyntax.hex(value))/0xffffffff"))
      case .setCTMark(let value):
        actions.append((.statement(index), "-j CONNMARK --set-xmark \(IPTablesSyntax.hex(value))/0xffffffff"))
      case .saveMark:
        actions.append((.statement(index), "-j CONNMARK --save-mark --nfmask 0xffffffff --ctmask 0xffffffff"))
      case .restoreMark:
        if index != rule.statements.count - 1 || rule.verdict != nil {
          // nft's `meta mark set ct mark` ends the rule for a packet without a conntrack entry;
          // CONNMARK lets the split rule's next action run.
          diagnostics.append(
            .error(
              "iptables would run the rest of this rule for a packet without a conntrack entry, which nft's 'meta mark set ct mark' stops; put it last in its rule"
                + Self.suggestion, at: statement.location))
        }
        actions.append((.statement(index), "-j CONNMARK --restore-mark --nfmask 0xffffffff --ctmask 0xffffffff"))
      }
    }
    if let verdict = rule.verdict,
      let target = target(verdict, version: version, userChains: userChains, at: rule.verdictLocation, &diagnostics)
    {
      actions.append((.verdict, target))
    }
    if actions.isEmpty { actions.append((.none, nil)) }
    return actions
  }

  /// `[! ]--src-type LOCAL,BROADCAST` for an address-type match. IPv6 has no broadcast
  /// addresses, so BROADCAST is left out of an IPv6 list (it never matches there). ip6tables'
  /// addrtype means something else for the rest (`match_type6`): UNICAST is "not a multicast
  /// address" (local ones too), MULTICAST and UNSPEC must all hold, and only LOCAL, ANYCAST and
  /// UNREACHABLE come from the route, as any of them: so an IPv6 list is one type, or some of
  /// those three, and anything else is an error rather than a different rule.
  static func addressTypeOption(_ match: Match, _ version: IPVersion, _ diagnostics: inout [Diagnostic]) -> String {
    guard case .addressType(let direction, var types) = match.kind else { return "" }
    if version == .v6 {
      if types.count > 1 { types.remove(.broadcast) }
      if !AddressType.ip6tablesAgrees(types) {
        diagnostics.append(
          .error(
            "ip6tables' addrtype cannot test \(types.sorted().map(\.rawValue).joined(separator: ", ")) as nft does (it reads unicast as 'not multicast', refuses broadcast and the route types, and requires every listed type); use local, anycast, unreachable or multicast alone, or limit the rule to ip"
              + suggestion, at: match.location))
      }
    }
    let names = types.sorted().map(\.iptablesName).joined(separator: ",")
    return (match.negated ? "! " : "") + (direction == .source ? "--src-type " : "--dst-type ") + names
  }

  /// The `-j`/`-g` text of a verdict; nil for `continue`.
  func target(
    _ verdict: Verdict, version: IPVersion, userChains: Set<String>, at location: SourceLocation,
    _ diagnostics: inout [Diagnostic]
  ) -> String? {
    func requireHooks(_ allowed: Set<Hook>, _ what: String) {
      if !hooks.isSubset(of: allowed) {
        let names = BuiltinTable.all.flatMap(\.hooks).filter { allowed.contains($0) }
        let list = Hook.allCases.filter { names.contains($0) }.map(\.builtinChainName).joined(separator: ", ")
        diagnostics.append(
          .error("the kernel allows \(what) only in chains reached from \(list)" + Self.suggestion, at: location))
      }
    }
    func requireNAT(_ what: String) {
      if builtin.name != "nat" {
        diagnostics.append(.error("iptables allows \(what) only in the nat table" + Self.suggestion, at: location))
      }
    }
    switch verdict {
    case .accept: return "-j ACCEPT"
    case .drop:
      if builtin.name == "nat" {
        diagnostics.append(
          .error("iptables refuses DROP in the nat table; drop in the filter table" + Self.suggestion, at: location))
      }
      return "-j DROP"
    case .reject(let kind):
      if builtin.name != "filter" {
        diagnostics.append(.error("iptables allows REJECT only in the filter table" + Self.suggestion, at: location))
      } else {
        requireHooks([.input, .forward, .output], "REJECT")
      }
      let with: String
      switch kind {
      case nil: with = version == .v4 ? "icmp-port-unreachable" : "icmp6-port-unreachable"
      case .icmp(let code): with = IPTablesSyntax.rejectName(code)
      case .icmpv6(let code): with = IPTablesSyntax.rejectName(code)
      case .icmpx(let code): with = IPTablesSyntax.rejectName(code, version)
      case .tcpReset: with = "tcp-reset"
      }
      return "-j REJECT --reject-with \(with)"
    case .jump(let name), .goto(let name):
      if !userChains.contains(name) {
        diagnostics.append(
          .error(
            "no regular chain '\(name)' in this iptables table to \(verdict.isGoto ? "go to" : "jump to")", at: location
          ))
      }
      return (verdict.isGoto ? "-g " : "-j ") + name
    case .return: return "-j RETURN"
    case .continue: return nil
    case .snat(let d):
      requireNAT("SNAT")
      requireHooks([.postrouting, .input], "SNAT")
      return "-j SNAT --to-source \(IPTablesSyntax.natDestination(d))"
    case .dnat(let d):
      requireNAT("DNAT")
      requireHooks([.prerouting, .output], "DNAT")
      return "-j DNAT --to-destination \(IPTablesSyntax.natDestination(d))"
    case .masquerade(let ports):
      requireNAT("MASQUERADE")
      requireHooks([.postrouting], "MASQUERADE")
      return "-j MASQUERADE" + (ports.map { " --to-ports \(IPTablesSyntax.natPorts($0))" } ?? "")
    case .redirect(let ports):
      requireNAT("REDIRECT")
      requireHooks([.prerouting, .output], "REDIRECT")
      return "-j REDIRECT" + (ports.map { " --to-ports \(IPTablesSyntax.natPorts($0))" } ?? "")
    case .opaque(let target):
      if target.syntax != .iptables {
        diagnostics.append(
          .error("cannot express in iptables: \(target.syntax.rawValue) target '\(target.text)'", at: location))
      }
      return target.text
    }
  }

  static func natPorts(_ verdict: Verdict?) -> PortRange? {
    switch verdict {
    case .snat(let d), .dnat(let d): return d.ports
    case .masquerade(let p), .redirect(let p): return p
    default: return nil
    }
  }

  // MARK: - Matches

  func fixed(_ piece: RulePiece) -> Dimension { Dimension(alternatives: [[piece]], disjoint: true) }

  func isSingle<T>(_ operand: Operand<T>) -> Bool {
    if case .single = operand { return true }
    return false
  }

  func nextHeaderError(_ match: Match) -> Diagnostic {
    .error(
      "'ip6 nexthdr' tests the first extension header, ip6tables -p the transport protocol; write 'meta l4proto'"
        + Self.suggestion, at: match.location)
  }

  /// `-m tcp --dport 22`, or `-m multiport --dports …` (15 ports per match, a range counts 2).
  func portDimension(
    _ proto: TransportProtocol, _ direction: Direction, _ ranges: [PortRange], negated: Bool, isSet: Bool
  ) -> Dimension {
    let not = negated ? "! " : ""
    let unique = Array(Set(ranges)).sorted()
    if unique.count == 1 || !isSet, let range = unique.first {
      let option = direction == .source ? "--sport" : "--dport"
      // The tcp/udp match prints nothing for the full range, and iptables-save follows it.
      let rank = direction == .source ? 0 : 1
      if range.first == 0 && range.last == .max {
        // Every port: nothing to test (iptables-save drops the option, and drops `!` with it).
        return negated
          ? Dimension(alternatives: [], disjoint: true)
          : fixed(.transport(proto, rank: rank, option: nil, fallback: nil))
      }
      let multiport =
        "-m multiport \(not)\(direction == .source ? "--sports" : "--dports") \(IPTablesSyntax.ports(range))"
      return fixed(
        .transport(proto, rank: rank, option: "\(not)\(option) \(IPTablesSyntax.ports(range))", fallback: multiport))
    }
    var chunks: [[PortRange]] = [[]]
    var used = 0
    for range in ranges {
      let cost = range.isSinglePort ? 1 : 2
      if used + cost > 15 {
        chunks.append([])
        used = 0
      }
      chunks[chunks.count - 1].append(range)
      used += cost
    }
    let option = direction == .source ? "--sports" : "--dports"
    let modules = chunks.filter { !$0.isEmpty }.map { chunk in
      RulePiece.module("-m multiport \(not)\(option) \(chunk.map(IPTablesSyntax.ports).joined(separator: ","))")
    }
    if modules.isEmpty { return Dimension(alternatives: negated ? [[]] : [], disjoint: true) }
    if negated { return Dimension(alternatives: [modules], disjoint: true) }
    return Dimension(alternatives: modules.map { [$0] }, disjoint: Self.disjoint(ranges.map { ($0.first, $0.last) }))
  }

  /// `-m icmp --icmp-type 3/1` (with an `icmp code` match of the same rule folded in).
  func icmpDimension(
    _ version: IPVersion, _ operand: Operand<UInt8>, _ match: Match, _ rule: Rule,
    _ diagnostics: inout [Diagnostic]
  ) -> Dimension? {
    let codeMatches = rule.matches.filter {
      if case .icmpCode(version, _) = $0.kind { return true } else { return false }
    }
    if codeMatches.count > 1 {
      diagnostics.append(
        .error("iptables can test one icmp type and code per rule; combine them" + Self.suggestion, at: match.location))
      return nil
    }
    guard let types = resolveInline(operand, at: match.location, &diagnostics) else { return nil }
    if version == .v4 && types.contains(255) {
      diagnostics.append(
        .error("the iptables icmp match reads type 255 as 'any type'" + Self.suggestion, at: match.location))
      return nil
    }
    var codes: [UInt8?] = [nil]
    if let codeMatch = codeMatches.first, case .icmpCode(_, let codeOperand) = codeMatch.kind {
      if codeMatch.negated || match.negated {
        diagnostics.append(
          .error("iptables cannot negate an icmp type together with a code" + Self.suggestion, at: codeMatch.location))
        return nil
      }
      guard let values = resolveInline(codeOperand, at: codeMatch.location, &diagnostics) else { return nil }
      codes = values.map { $0 }
    }
    let (module, option) = version == .v4 ? ("icmp", "--icmp-type") : ("icmp6", "--icmpv6-type")
    let not = match.negated ? "! " : ""
    var pieces: [RulePiece] = []
    for type in types {
      for code in codes {
        pieces.append(.module("-m \(module) \(not)\(option) \(type)" + (code.map { "/\($0)" } ?? "")))
      }
    }
    if match.negated { return Dimension(alternatives: [pieces], disjoint: true) }
    return Dimension(alternatives: pieces.map { [$0] }, disjoint: true)
  }

  /// The `--limit` options, when the rate survives `iptables-save` unchanged.
  func limitText(_ limit: RateLimit, _ match: Match, _ diagnostics: inout [Diagnostic]) -> String? {
    if limit.over {
      diagnostics.append(
        .error("the iptables limit match cannot express 'limit rate over'" + Self.suggestion, at: match.location))
      return nil
    }
    if limit.quantity == .bytes {
      diagnostics.append(
        .error("the iptables limit match counts packets, not bytes" + Self.suggestion, at: match.location))
      return nil
    }
    // iptables keeps the period between packets in 1/10000 s, truncated as libxt_limit does;
    // the rule is accepted when iptables-save lists the same rate back and reloading it keeps
    // the period.
    let total = IPTablesSyntax.limitScale * UInt64(limit.unit.seconds)
    let period = limit.rate == 0 ? 0 : total / limit.rate
    guard period >= 1, period <= UInt64(UInt32.max) else {
      diagnostics.append(
        .error(
          "the iptables limit match takes rates from 1/day to 10000/second, not \(limit.rate)/\(limit.unit.rawValue)"
            + Self.suggestion, at: match.location))
      return nil
    }
    let printed = IPTablesSyntax.limitRate(period: period)
    guard printed.count * UInt64(limit.unit.seconds) == limit.rate * printed.unitSeconds,
      IPTablesSyntax.limitScale * printed.unitSeconds / printed.count == period
    else {
      diagnostics.append(
        .error(
          "iptables would keep \(limit.rate)/\(limit.unit.rawValue) as \(printed.text), a different rate"
            + Self.suggestion, at: match.location))
      return nil
    }
    var text = "-m limit --limit \(printed.text)"
    let burst = limit.burst ?? RateLimit.defaultBurst
    if burst == 0 || burst > 10000 {
      diagnostics.append(.error("iptables accepts a limit burst from 1 to 10000" + Self.suggestion, at: match.location))
      return nil
    }
    // xt_limit refuses a bucket whose size (period × burst, in credits of HZ × CREDITS_PER_JIFFY
    // per second, at most 38400 for common HZ) overflows 32 bits: about 31 hours of packets.
    if period * UInt64(burst) / IPTablesSyntax.limitScale * 38400 > UInt64(UInt32.max) {
      diagnostics.append(
        .error(
          "the kernel's limit match refuses a burst of \(burst) at \(limit.rate)/\(limit.unit.rawValue): the bucket would hold more than about 31 hours of packets"
            + Self.suggestion, at: match.location))
      return nil
    }
    if burst != RateLimit.defaultBurst { text += " --limit-burst \(burst)" }
    return text
  }

  // MARK: - Sets

  /// The elements of an operand, named sets looked up in the table; nil after a diagnostic.
  func resolve<T>(
    _ operand: Operand<T>, at location: SourceLocation, _ diagnostics: inout [Diagnostic],
    extract: (SetElement) -> T?
  ) -> [T]? {
    guard case .named(let name) = operand else {
      var seen = Set<T>()
      return operand.inlineElements.filter { seen.insert($0).inserted }
    }
    guard let set = table.set(name) else {
      diagnostics.append(.error("no set '\(name)' in table \(table.family.rawValue) \(table.name)", at: location))
      return nil
    }
    var values: [T] = []
    for element in set.elements {
      guard let value = extract(element) else {
        diagnostics.append(.error("set '\(name)' has elements of the wrong type for this match", at: location))
        return nil
      }
      if !values.contains(value) { values.append(value) }
    }
    return values
  }

  func resolveInline(_ operand: Operand<UInt8>, at location: SourceLocation, _ diagnostics: inout [Diagnostic])
    -> [UInt8]?
  {
    if case .named(let name) = operand {
      diagnostics.append(
        .error("named set '\(name)' cannot hold icmp types or codes here" + Self.suggestion, at: location))
      return nil
    }
    return operand.inlineElements
  }

  func addressElement(_ e: SetElement) -> AddressElement? {
    if case .address(let a) = e { return a } else { return nil }
  }
  func portElement(_ e: SetElement) -> PortRange? { if case .port(let p) = e { return p } else { return nil } }
  func protoElement(_ e: SetElement) -> UInt8? { if case .proto(let p) = e { return p } else { return nil } }
  func interfaceElement(_ e: SetElement) -> InterfacePattern? {
    if case .interface(let i) = e { return i } else { return nil }
  }
  func etherElement(_ e: SetElement) -> MACAddress? { if case .ether(let m) = e { return m } else { return nil } }

  /// Why iptables cannot take this interface name, if it cannot.
  static func interfaceProblem(_ pattern: InterfacePattern) -> String? {
    if pattern.name.utf8.count > InterfacePattern.maximumLength {
      return "interface names have at most \(InterfacePattern.maximumLength) characters"
    }
    if !pattern.isWildcard && pattern.name.isEmpty { return "empty interface name" }
    if !pattern.isWildcard && pattern.name.hasSuffix("+") {
      return "iptables reads a trailing '+' as a wildcard, so it cannot match the name '\(pattern.name)' exactly"
        + suggestion
    }
    if pattern.name.contains(where: { $0.isWhitespace || $0 == "\"" || $0 == "'" || $0 == "\\" }) {
      return "iptables-restore cannot read the interface name '\(pattern.name)'" + suggestion
    }
    return nil
  }

  /// True when no two of the closed intervals overlap.
  static func disjoint<T: Comparable>(_ intervals: [(T, T)]) -> Bool {
    let sorted = intervals.sorted { $0.0 < $1.0 }
    for (a, b) in zip(sorted, sorted.dropFirst()) where b.0 <= a.1 { return false }
    return true
  }

  /// True when no interface name matches two of the patterns.
  static func disjointPatterns(_ patterns: [InterfacePattern]) -> Bool {
    for (i, a) in patterns.enumerated() {
      for b in patterns[(i + 1)...] {
        if a.isWildcard && b.name.hasPrefix(a.name) || b.isWildcard && a.name.hasPrefix(b.name) || a == b {
          return false
        }
      }
    }
    return true
  }
}

extension Verdict {
  /// True for `goto`.
  var isGoto: Bool {
    if case .goto = self { return true }
    return false
  }
}
