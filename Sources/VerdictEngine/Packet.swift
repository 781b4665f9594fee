import NetfilterModel

/// A packet as the engine sees it: headers, metadata and conntrack state.
///
/// The command line fills it from `--src --dst --proto --sport --dport …`; unknown fields stay nil
/// and a rule that needs one makes the verdict `unknown` instead of a guess.
public struct Packet: Hashable, Sendable {
  /// Network-layer protocol.
  public enum Kind: String, Hashable, Sendable {
    case ipv4, ipv6, arp
  }

  public var kind: Kind
  public var source: IPAddress?
  public var destination: IPAddress
  /// IP protocol number (6 tcp, 17 udp, 1 icmp, 58 icmpv6); nil for ARP.
  public var l4proto: UInt8?
  public var sourcePort: UInt16?
  public var destinationPort: UInt16?
  public var icmpType: UInt8?
  public var icmpCode: UInt8?
  public var tcpFlags: TCPFlags?
  /// Input interface name; nil when not known (a rule testing it is then `unknown`).
  public var inputInterface: String?
  /// Output interface name; nil when not known.
  public var outputInterface: String?
  /// Bridge port the frame entered by, when the packet is bridged.
  public var bridgePortIn: String?
  /// Bridge port the frame leaves by, when the packet is bridged.
  public var bridgePortOut: String?
  /// Conntrack state of the packet (the first packet of a connection is `new`).
  public var ctState: CTState
  public var mark: UInt32
  /// The connection's mark (`ct mark`): 0 for a new connection; for the packets of an existing
  /// one, what earlier packets left (`--ct-mark`).
  public var ctMark: UInt32
  public var etherSource: MACAddress?

  public init(
    source: IPAddress?, destination: IPAddress, l4proto: UInt8? = nil, sourcePort: UInt16? = nil,
    destinationPort: UInt16? = nil, icmpType: UInt8? = nil, icmpCode: UInt8? = nil, tcpFlags: TCPFlags? = nil,
    inputInterface: String? = nil, outputInterface: String? = nil, bridgePortIn: String? = nil,
    bridgePortOut: String? = nil, ctState: CTState = .new, mark: UInt32 = 0, ctMark: UInt32 = 0,
    etherSource: MACAddress? = nil, isARP: Bool = false
  ) {
    self.kind = isARP ? .arp : (destination.version == .v4 ? .ipv4 : .ipv6)
    self.source = source
    self.destination = destination
    self.l4proto = isARP ? nil : l4proto
    self.sourcePort = sourcePort
    self.destinationPort = destinationPort
    self.icmpType = icmpType
    self.icmpCode = icmpCode
    self.tcpFlags = tcpFlags
    self.inputInterface = inputInterface
    self.outputInterface = outputInterface
    self.bridgePortIn = bridgePortIn
    self.bridgePortOut = bridgePortOut
    self.ctState = ctState
    self.mark = mark
    self.ctMark = ctMark
    self.etherSource = etherSource
  }

  /// The IP version, nil for ARP.
  public var version: IPVersion? {
    switch kind {
    case .ipv4: return .v4
    case .ipv6: return .v6
    case .arp: return nil
    }
  }

  /// True when the packet crosses a bridge (physdev matches see its ports).
  public var isBridged: Bool { bridgePortIn != nil || bridgePortOut != nil }

  /// A short human description: `tcp 11.11.11.2:40000 -> 11.11.11.3:22`.
  public var summary: String {
    if kind == .arp { return "arp who-has \(destination)" + (source.map { " tell \($0)" } ?? "") }
    let proto = l4proto.map(ProtocolNames.protocolName) ?? "ip"
    func endpoint(_ a: IPAddress?, _ p: UInt16?) -> String {
      let text = a?.description ?? "?"
      guard let p else { return text }
      return a?.version == .v6 ? "[\(text)]:\(p)" : "\(text):\(p)"
    }
    var s = "\(proto) \(endpoint(source, sourcePort)) -> \(endpoint(destination, destinationPort))"
    if let t = icmpType, let version {
      s += " " + ProtocolNames.name(t, in: ProtocolNames.icmpTypeTable(version))
    }
    return s
  }
}
