/// What a rule does once its matches hold and its statements ran: a verdict or a NAT target.
public enum Verdict: Hashable, Sendable {
  case accept
  case drop
  /// `reject`, `reject with icmp host-unreachable`, `reject with tcp reset`.
  case reject(RejectKind?)
  case jump(chain: String)
  case goto(chain: String)
  case `return`
  case `continue`
  /// `snat to 1.2.3.4[:port[-port]]`.
  case snat(NATDestination)
  /// `dnat to 10.0.0.2[:8080]`.
  case dnat(NATDestination)
  /// `masquerade [to :1000-2000]`.
  case masquerade(ports: PortRange?)
  /// `redirect [to :8080]`.
  case redirect(ports: PortRange?)
  /// A target the model cannot express (`-j TCPMSS --clamp-mss-to-pmtu`, `-j NFLOG …`), kept
  /// verbatim; terminal or not as the target is.
  case opaque(OpaqueTarget)

  /// True for verdicts that end evaluation of the whole hook for this packet in this base chain.
  public var isTerminal: Bool {
    switch self {
    case .accept, .drop, .reject, .snat, .dnat, .masquerade, .redirect: return true
    case .jump, .goto, .return, .continue: return false
    case .opaque(let target): return target.isTerminal
    }
  }

  /// True for the NAT targets.
  public var isNAT: Bool {
    switch self {
    case .snat, .dnat, .masquerade, .redirect: return true
    default: return false
    }
  }

  /// The chain a jump or goto names.
  public var targetChain: String? {
    switch self {
    case .jump(let c), .goto(let c): return c
    default: return nil
    }
  }
}

/// A target or statement the model does not understand, kept as written so compiling it back
/// with the backend of its syntax gives the same rule.
public struct OpaqueTarget: Hashable, Sendable {
  /// The target's name as `-j` takes it: `TCPMSS`, `NFLOG`.
  public var name: String
  /// The target as written in `syntax` with its options: `-j TCPMSS --clamp-mss-to-pmtu`,
  /// `flow add @ft`, or an nft JSON statement (`{"quota":{…}}`).
  public var text: String
  /// True when the target decides the packet's fate (`NFQUEUE`, `TPROXY`, an unknown target);
  /// false for targets that act and let the next rule run (`LOG`-like: `NFLOG`, `TCPMSS`, `CT`).
  public var isTerminal: Bool
  public var syntax: OpaqueSyntax
  public init(name: String, text: String, isTerminal: Bool, syntax: OpaqueSyntax = .iptables) {
    self.name = name
    self.text = text
    self.isTerminal = isTerminal
    self.syntax = syntax
  }

  /// iptables targets that act and return to the chain (`XT_CONTINUE`): the rest are assumed to
  /// decide the packet's fate.
  public static let nonTerminalNames: Set<String> = [
    "LOG", "NFLOG", "ULOG", "TCPMSS", "CONNMARK", "NOTRACK", "CT", "TOS", "DSCP", "TTL", "HL", "MARK",
    "CLASSIFY", "CHECKSUM", "CONNSECMARK", "SECMARK", "ECN", "TCPOPTSTRIP", "IDLETIMER", "LED", "AUDIT", "SET",
    "RATEEST", "TRACE", "HMARK", "TEE",
  ]
}

extension OpaqueTarget {
  /// An nft statement kept as written (`flow add @ft`, `queue num 1`, `ct helper set "ftp"`),
  /// nil for empty text. Named by its first words; terminal when it decides the packet's fate
  /// (`queue`, `synproxy`, `fwd`, a verdict, NAT or reject with options the model lacks, a verdict
  /// map whose outcome the model cannot follow), else it acts and lets the rule's next part run.
  public static func nft(_ text: String) -> OpaqueTarget? {
    let words = text.split(whereSeparator: { $0 == " " || $0 == "\t" })
    guard !words.isEmpty else { return nil }
    // Any word outside quotes: `log prefix "x" drop` decides as surely as `drop`.
    let terminal = OpaqueMatch.nftWords(text).contains { nftTerminalStatements.contains($0) }
    return OpaqueTarget(name: OpaqueMatch.nftModule(words), text: text, isTerminal: terminal, syntax: .nft)
  }

  /// nft statements that decide the packet's fate (or may): the verdicts, NAT and reject (kept
  /// opaque for options the model lacks), verdict maps, and the statements that hand the packet
  /// elsewhere. Also the names of the nft JSON statements that do.
  public static let nftTerminalStatements: Set<String> = [
    "queue", "synproxy", "fwd", "tproxy", "accept", "drop", "reject", "snat", "dnat", "masquerade", "redirect",
    "jump", "goto", "return", "vmap",
  ]
}

/// How a `reject` answers.
public enum RejectKind: Hashable, Sendable {
  /// ICMP (IPv4) with this code name, e.g. `host-unreachable`.
  case icmp(ICMPRejectCode)
  /// ICMPv6 with this code name.
  case icmpv6(ICMPv6RejectCode)
  /// Family-independent ICMP (inet tables).
  case icmpx(ICMPxRejectCode)
  /// A TCP RST (the rule must match TCP).
  case tcpReset
}

/// ICMP destination-unreachable codes `reject` can send.
public enum ICMPRejectCode: String, Hashable, Sendable, CaseIterable {
  case netUnreachable = "net-unreachable"
  case hostUnreachable = "host-unreachable"
  case protUnreachable = "prot-unreachable"
  case portUnreachable = "port-unreachable"
  case netProhibited = "net-prohibited"
  case hostProhibited = "host-prohibited"
  case adminProhibited = "admin-prohibited"
}

/// ICMPv6 destination-unreachable codes `reject` can send.
public enum ICMPv6RejectCode: String, Hashable, Sendable, CaseIterable {
  case noRoute = "no-route"
  case adminProhibited = "admin-prohibited"
  case addrUnreachable = "addr-unreachable"
  case portUnreachable = "port-unreachable"
  case policyFail = "policy-fail"
  case rejectRoute = "reject-route"
}

/// The family-independent reject codes of nft's `icmpx`.
public enum ICMPxRejectCode: String, Hashable, Sendable, CaseIterable {
  case noRoute = "no-route"
  case portUnreachable = "port-unreachable"
  case hostUnreachable = "host-unreachable"
  case adminProhibited = "admin-prohibited"
}

/// The new address (and port) of a NAT rule.
public struct NATDestination: Hashable, Sendable {
  /// The address, or a range of addresses.
  public var address: IPAddress
  public var lastAddress: IPAddress?
  public var ports: PortRange?
  public init(address: IPAddress, lastAddress: IPAddress? = nil, ports: PortRange? = nil) {
    self.address = address
    self.lastAddress = lastAddress
    self.ports = ports
  }
  public var version: IPVersion { address.version }
}

/// A non-terminal statement: it acts and evaluation continues with the next part of the rule.
public struct Statement: Hashable, Sendable {
  public enum Kind: Hashable, Sendable {
    /// `counter`
    case counter
    /// `log [prefix "…"] [level …]`
    case log(prefix: String?, level: LogLevel?)
    /// `meta mark set 0x1`
    case setMark(UInt32)
    /// `ct mark set 0x1` (iptables `-j CONNMARK --set-mark`).
    case setCTMark(UInt32)
    /// `ct mark set meta mark`: the connection takes the packet's mark (`CONNMARK --save-mark`).
    case saveMark
    /// `meta mark set ct mark`: the packet takes the connection's mark (`CONNMARK --restore-mark`).
    case restoreMark
  }
  public var kind: Kind
  public var location: SourceLocation
  public init(_ kind: Kind, location: SourceLocation = .unknown) {
    self.kind = kind
    self.location = location
  }
}

/// Syslog levels for `log level`.
public enum LogLevel: String, Hashable, Sendable, CaseIterable {
  case emerg, alert, crit, err, warn, notice, info, debug
  /// The syslog number (iptables `--log-level`).
  public var number: Int { LogLevel.allCases.firstIndex(of: self)! }
}

/// A named set declared in a table: `set blocked { type ipv4_addr; elements = { … } }`.
public struct NamedSet: Hashable, Sendable {
  public var name: String
  public var type: SetType
  public var elements: [SetElement]
  public var location: SourceLocation
  public init(name: String, type: SetType, elements: [SetElement], location: SourceLocation = .unknown) {
    self.name = name
    self.type = type
    self.elements = elements
    self.location = location
  }
  /// True when the set needs `flags interval` (it holds a prefix or a range).
  public var needsInterval: Bool {
    elements.contains { element in
      switch element {
      case .address(let a): return !a.isSingleAddress
      case .port(let p): return !p.isSinglePort
      default: return false
      }
    }
  }
}

/// The element type of a named set (nft type names).
public enum SetType: String, Hashable, Sendable, CaseIterable {
  case ipv4Address = "ipv4_addr"
  case ipv6Address = "ipv6_addr"
  case inetService = "inet_service"
  case inetProto = "inet_proto"
  case interfaceName = "ifname"
  case etherAddress = "ether_addr"
}

/// One element of a named set.
public enum SetElement: Hashable, Sendable {
  case address(AddressElement)
  case port(PortRange)
  case proto(UInt8)
  case interface(InterfacePattern)
  case ether(MACAddress)
}
