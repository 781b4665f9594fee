import NetfilterModel

extension RuleLinearizer {
  /// Adds a statement: `counter`, `log`, `meta mark set`, `ct mark set`.
  mutating func add(_ statement: Statement) {
    switch statement.kind {
    case .counter:
      steps.append(.statement([.counter]))
    case .log(let prefix, let level):
      // The script omits the default level (warn), so nft sends none.
      let number = level.flatMap { $0 == .warn ? nil : UInt32($0.number) }
      steps.append(.statement([.log(prefix: prefix, level: number)]))
    case .setMark(let value):
      steps.append(.statement([.immediate(register: K.reg1, Bytes.host32(value)), .metaSet(K.metaMark)]))
    case .setCTMark(let value):
      steps.append(.statement([.immediate(register: K.reg1, Bytes.host32(value)), .ctSet(K.ctMark)]))
    case .saveMark:
      steps.append(.statement([.meta(K.metaMark), .ctSet(K.ctMark)]))
    case .restoreMark:
      steps.append(.statement([.ct(K.ctMark), .metaSet(K.metaMark)]))
    }
  }

  /// Adds the verdict or NAT target.
  mutating func add(_ verdict: Verdict) {
    switch verdict {
    case .accept: steps.append(.statement([.verdict(1, chain: nil)]))  // NF_ACCEPT
    case .drop: steps.append(.statement([.verdict(0, chain: nil)]))  // NF_DROP
    case .continue: steps.append(.statement([.verdict(-1, chain: nil)]))  // NFT_CONTINUE
    case .jump(let chain): steps.append(.statement([.verdict(-3, chain: chain)]))  // NFT_JUMP
    case .goto(let chain): steps.append(.statement([.verdict(-4, chain: chain)]))  // NFT_GOTO
    case .return: steps.append(.statement([.verdict(-5, chain: nil)]))  // NFT_RETURN
    case .reject(let kind): addReject(kind)
    case .snat(let d): addNAT(type: 0, d)
    case .dnat(let d): addNAT(type: 1, d)
    case .masquerade(let ports): steps.append(.statement(portsOnly(ports, make: Expression.masquerade)))
    case .redirect(let ports): steps.append(.statement(portsOnly(ports, make: Expression.redirect)))
    case .opaque:
      // Refused before linearizing: iptables and JSON ones by `NFTScript.unsupported`, nft ones
      // by `linearize`.
      preconditionFailure("opaque target reached the nft linearizer")
    }
  }

  // NFT_REJECT_ICMP_UNREACH, NFT_REJECT_TCP_RST, NFT_REJECT_ICMPX_UNREACH
  static let rejectICMP: UInt32 = 0
  static let rejectTCPReset: UInt32 = 1
  static let rejectICMPx: UInt32 = 2

  mutating func addReject(_ kind: RejectKind?) {
    let expression: Expression
    switch kind {
    case nil:
      // nft's default: port unreachable in the family's own ICMP, icmpx in inet.
      switch family {
      case .ip6: expression = .reject(type: Self.rejectICMP, code: 4)
      case .inet: expression = .reject(type: Self.rejectICMPx, code: 1)
      default: expression = .reject(type: Self.rejectICMP, code: 3)
      }
    case .icmp(let code):
      if family == .inet { requireNetwork(.v4) }
      expression = .reject(type: Self.rejectICMP, code: Self.icmpCode(code))
    case .icmpv6(let code):
      if family == .inet { requireNetwork(.v6) }
      expression = .reject(type: Self.rejectICMP, code: Self.icmpv6Code(code))
    case .icmpx(let code):
      expression = .reject(type: Self.rejectICMPx, code: Self.icmpxCode(code))
    case .tcpReset:
      requireTransport(6)
      expression = .reject(type: Self.rejectTCPReset, code: 0)
    }
    steps.append(.statement([expression]))
  }

  static func icmpCode(_ c: ICMPRejectCode) -> UInt8 {
    switch c {
    case .netUnreachable: return 0
    case .hostUnreachable: return 1
    case .protUnreachable: return 2
    case .portUnreachable: return 3
    case .netProhibited: return 9
    case .hostProhibited: return 10
    case .adminProhibited: return 13
    }
  }

  static func icmpv6Code(_ c: ICMPv6RejectCode) -> UInt8 {
    switch c {
    case .noRoute: return 0
    case .adminProhibited: return 1
    case .addrUnreachable: return 3
    case .portUnreachable: return 4
    case .policyFail: return 5
    case .rejectRoute: return 6
    }
  }

  static func icmpxCode(_ c: ICMPxRejectCode) -> UInt8 {
    switch c {
    case .noRoute: return 0
    case .portUnreachable: return 1
    case .hostUnreachable: return 2
    case .adminProhibited: return 3
    }
  }

  /// `snat|dnat [ip|ip6] to A[-B][:P[-Q]]`: immediates into registers 1, 2, … then the nat expression.
  mutating func addNAT(type: UInt32, _ d: NATDestination) {
    var e: [Expression] = []
    var r = NATRegisters(type: type, family: d.version == .v4 ? 2 : 10)
    var register: UInt32 = 1
    func load(_ data: [UInt8]) -> UInt32 {
      e.append(.immediate(register: register, data))
      register += 1
      return register - 1
    }
    r.addressMin = load(Bytes.address(d.address))
    if let last = d.lastAddress { r.addressMax = load(Bytes.address(last)) }
    if let ports = d.ports {
      r.protoMin = load(Bytes.be16(ports.first))
      if !ports.isSinglePort { r.protoMax = load(Bytes.be16(ports.last)) }
      r.flags = 2  // NF_NAT_RANGE_PROTO_SPECIFIED
    }
    e.append(.nat(r))
    steps.append(.statement(e))
  }

  /// `masquerade|redirect [to :P[-Q]]`.
  func portsOnly(_ ports: PortRange?, make: (NATRegisters) -> Expression) -> [Expression] {
    guard let ports else { return [make(NATRegisters())] }
    var e: [Expression] = [.immediate(register: 1, Bytes.be16(ports.first))]
    var r = NATRegisters(protoMin: 1, flags: 2)
    if !ports.isSinglePort {
      e.append(.immediate(register: 2, Bytes.be16(ports.last)))
      r.protoMax = 2
    }
    return e + [make(r)]
  }
}
