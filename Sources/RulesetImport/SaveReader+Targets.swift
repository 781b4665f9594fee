import NetfilterModel

extension SaveReader {
  /// Sets the rule's verdict or statement from `-j NAME …` / `-g CHAIN`; a target the model
  /// cannot express is kept opaque with a warning.
  /// False after an error.
  mutating func readTarget(_ ext: SaveExtension, isGoto: Bool, into rule: inout Rule) -> Bool {
    rule.verdictLocation = location(ext.token.column)
    let userChains = Set(table?.chains.filter { $0.base == nil }.map(\.name) ?? [])
    if isGoto || userChains.contains(ext.name) {
      guard userChains.contains(ext.name), ext.options.isEmpty else {
        error("'\(ext.token.text) \(ext.name)' names no user chain of table \(table?.name ?? "")", ext.token.column)
        return false
      }
      rule.verdict = isGoto ? .goto(chain: ext.name) : .jump(chain: ext.name)
      return true
    }
    if let exact = exactTarget(ext) {
      switch exact {
      case .verdict(let v): rule.verdict = v
      case .statement(let s): rule.statements.append(Statement(s, location: location(ext.token.column)))
      }
      return true
    }
    let terminal = !OpaqueTarget.nonTerminalNames.contains(ext.name)
    rule.verdict = .opaque(OpaqueTarget(name: ext.name, text: text(ext.start, ext.end), isTerminal: terminal))
    let effect =
      terminal
      ? "it is taken to decide the packet's fate, so packets reaching it get verdict unknown"
      : "evaluation continues after it, assuming it does not change the packet's fate"
    warn("target \(ext.name) is not modelled: kept as written; \(effect)", ext.token.column)
    return true
  }

  enum ExactTarget {
    case verdict(Verdict)
    case statement(Statement.Kind)
  }

  /// The model's form of a target when it has one with exactly these options.
  func exactTarget(_ ext: SaveExtension) -> ExactTarget? {
    var options: [String: String] = [:]
    for o in ext.options {
      if o.negated || options[o.name] != nil { return nil }
      options[o.name] = o.values.map(\.text).joined(separator: " ")
    }
    func only(_ allowed: Set<String>) -> Bool { Set(options.keys).isSubset(of: allowed) }
    switch ext.name {
    case "ACCEPT" where options.isEmpty: return .verdict(.accept)
    case "DROP" where options.isEmpty: return .verdict(.drop)
    case "RETURN" where options.isEmpty: return .verdict(.return)
    case "REJECT" where only(["--reject-with"]):
      guard let with = options["--reject-with"] else {
        return .verdict(.reject(version == .v4 ? .icmp(.portUnreachable) : .icmpv6(.portUnreachable)))
      }
      return Self.rejectKind(with, version).map { .verdict(.reject($0)) }
    case "LOG" where only(["--log-prefix", "--log-level"]):
      var level: LogLevel? = nil
      if let text = options["--log-level"] {
        guard let l = Self.logLevel(text) else { return nil }
        level = l == .warn ? nil : l
      }
      return .statement(.log(prefix: options["--log-prefix"], level: level))
    case "MARK" where options.count == 1:
      guard let (key, text) = options.first, key == "--set-mark" || key == "--set-xmark" else { return nil }
      return Self.fullMaskValue(text).map { .statement(.setMark($0)) }
    case "CONNMARK":
      // The forms iptables-save prints for --set-mark, --save-mark and --restore-mark with full
      // masks; partial masks and shifts stay opaque.
      let full = "0xffffffff"
      if options.count == 1, let text = options["--set-xmark"] ?? options["--set-mark"] {
        return Self.fullMaskValue(text).map { .statement(.setCTMark($0)) }
      }
      let masks = options.filter { $0.key != "--save-mark" && $0.key != "--restore-mark" }
      guard
        masks.allSatisfy({ ($0.key == "--nfmask" || $0.key == "--ctmask" || $0.key == "--mask") && $0.value == full })
      else { return nil }
      if options["--save-mark"] == "" && options["--restore-mark"] == nil { return .statement(.saveMark) }
      if options["--restore-mark"] == "" && options["--save-mark"] == nil { return .statement(.restoreMark) }
      return nil
    case "DNAT" where only(["--to-destination"]), "SNAT" where only(["--to-source"]):
      guard let text = options[ext.name == "DNAT" ? "--to-destination" : "--to-source"],
        let d = Self.natDestination(text, version)
      else { return nil }
      return .verdict(ext.name == "DNAT" ? .dnat(d) : .snat(d))
    case "MASQUERADE" where only(["--to-ports"]), "REDIRECT" where only(["--to-ports"]):
      var ports: PortRange? = nil
      if let text = options["--to-ports"] {
        guard let p = Self.natPorts(text) else { return nil }
        ports = p
      }
      return .verdict(ext.name == "MASQUERADE" ? .masquerade(ports: ports) : .redirect(ports: ports))
    default:
      return nil
    }
  }

  /// The value of `V` or `V/0xffffffff` (a mark set whole); nil for a partial mask.
  static func fullMaskValue(_ text: String) -> UInt32? {
    let parts = text.split(separator: "/", maxSplits: 1).map { number(String($0)) }
    guard let value = parts.first ?? nil, parts.count == 1 || parts[1] == .max else { return nil }
    return value
  }

  /// `--reject-with` names (libipt_REJECT, libip6t_REJECT, with their aliases).
  static func rejectKind(_ text: String, _ version: IPVersion) -> RejectKind? {
    if text == "tcp-reset" || text == "tcp-rst" { return .tcpReset }
    if version == .v4 {
      let names: [String: ICMPRejectCode] = [
        "icmp-net-unreachable": .netUnreachable, "net-unreach": .netUnreachable,
        "icmp-host-unreachable": .hostUnreachable, "host-unreach": .hostUnreachable,
        "icmp-proto-unreachable": .protUnreachable, "proto-unreach": .protUnreachable,
        "icmp-port-unreachable": .portUnreachable, "port-unreach": .portUnreachable,
        "icmp-net-prohibited": .netProhibited, "net-prohib": .netProhibited,
        "icmp-host-prohibited": .hostProhibited, "host-prohib": .hostProhibited,
        "icmp-admin-prohibited": .adminProhibited, "admin-prohib": .adminProhibited,
      ]
      return names[text].map { .icmp($0) }
    }
    let names: [String: ICMPv6RejectCode] = [
      "icmp6-no-route": .noRoute, "no-route": .noRoute, "icmp6-adm-prohibited": .adminProhibited,
      "adm-prohibited": .adminProhibited, "icmp6-addr-unreachable": .addrUnreachable, "addr-unreach": .addrUnreachable,
      "icmp6-port-unreachable": .portUnreachable, "port-unreach": .portUnreachable,
      "icmp6-policy-fail": .policyFail, "policy-fail": .policyFail, "icmp6-reject-route": .rejectRoute,
      "reject-route": .rejectRoute,
    ]
    return names[text].map { .icmpv6($0) }
  }

  /// `--log-level 7` or `debug`.
  static func logLevel(_ text: String) -> LogLevel? {
    if let n = Int(text), n >= 0, n < LogLevel.allCases.count { return LogLevel.allCases[n] }
    let aliases: [String: LogLevel] = ["error": .err, "warning": .warn, "panic": .emerg]
    return LogLevel(rawValue: text) ?? aliases[text]
  }

  /// `1.2.3.4`, `1.2.3.4-1.2.3.9`, `1.2.3.4:80`, `1.2.3.4:1000-2000`, `[2001:db8::1]:80`.
  static func natDestination(_ text: String, _ version: IPVersion) -> NATDestination? {
    var addressPart = text
    var portPart: String? = nil
    if version == .v6 {
      if text.hasPrefix("[") {
        guard let close = text.firstIndex(of: "]") else { return nil }
        let rest = text[text.index(after: close)...]
        addressPart = text.replacingOccurrencesOfBrackets(upTo: close)
        if rest.hasPrefix(":") { portPart = String(rest.dropFirst()) } else if !rest.isEmpty { return nil }
      }
    } else if let colon = text.firstIndex(of: ":") {
      addressPart = String(text[..<colon])
      portPart = String(text[text.index(after: colon)...])
    }
    let ends = addressPart.split(separator: "-", maxSplits: 1).map { IPAddress(String($0)) }
    guard let first = ends.first ?? nil, first.version == version else { return nil }
    var d = NATDestination(address: first)
    if ends.count == 2 {
      guard let last = ends[1], last.version == version else { return nil }
      if last != first { d.lastAddress = last }
    }
    if let portPart {
      guard let ports = natPorts(portPart) else { return nil }
      d.ports = ports
    }
    return d
  }

  /// `8080` or `1000-2000`.
  static func natPorts(_ text: String) -> PortRange? {
    let parts = text.split(separator: "-", maxSplits: 1).map { UInt16(String($0)) }
    guard let lo = parts.first ?? nil else { return nil }
    if parts.count == 1 { return PortRange(lo) }
    guard let hi = parts[1], lo <= hi else { return nil }
    return PortRange(lo, hi)
  }
}

extension String {
  /// `[2001:db8::1]` → `2001:db8::1` (the text up to the closing bracket, without brackets).
  func replacingOccurrencesOfBrackets(upTo close: String.Index) -> String {
    String(self[index(after: startIndex)..<close])
  }
}
