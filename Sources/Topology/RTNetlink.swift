import CNftnl
import NetfilterModel

/// The rtnetlink requests Firebreak sends, as messages (so they can be dumped and tested), each
/// named after the `ip` command it is equivalent to.
public enum RTNetlink {
  static let create = UInt16(NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL)
  static let change = UInt16(NLM_F_REQUEST | NLM_F_ACK)

  /// `ip link add NAME type bridge`
  public static func newBridge(_ name: String) -> NetlinkMessage {
    NetlinkMessage(
      type: UInt16(RTM_NEWLINK), flags: create, header: NetlinkMessage.ifinfomsg(),
      attributes: [
        .string(Int32(IFLA_IFNAME), name),
        .nest(Int32(IFLA_LINKINFO), [.string(Int32(IFLA_INFO_KIND), "bridge")]),
      ])
  }

  /// `ip link add NAME type veth peer name PEER [netns PEER_NS]`: the peer is created directly in
  /// the namespace behind `peerNamespaceFD` (nil: the same namespace).
  public static func newVeth(_ name: String, peer: String, peerNamespaceFD: Int32?) -> NetlinkMessage {
    var peerAttributes: [NetlinkMessage.Attribute] = [.string(Int32(IFLA_IFNAME), peer)]
    if let fd = peerNamespaceFD { peerAttributes.append(.u32(Int32(IFLA_NET_NS_FD), UInt32(bitPattern: fd))) }
    return NetlinkMessage(
      type: UInt16(RTM_NEWLINK), flags: create, header: NetlinkMessage.ifinfomsg(),
      attributes: [
        .string(Int32(IFLA_IFNAME), name),
        .nest(
          Int32(IFLA_LINKINFO),
          [
            .string(Int32(IFLA_INFO_KIND), "veth"),
            .nest(
              Int32(IFLA_INFO_DATA),
              [.nest(Int32(VETH_INFO_PEER), prefix: NetlinkMessage.ifinfomsg(), peerAttributes)]),
          ]),
      ])
  }

  /// `ip link set dev INDEX master MASTER_INDEX`
  public static func setMaster(index: Int32, master: Int32) -> NetlinkMessage {
    NetlinkMessage(
      type: UInt16(RTM_NEWLINK), flags: change, header: NetlinkMessage.ifinfomsg(index: index),
      attributes: [.u32(Int32(IFLA_MASTER), UInt32(master))])
  }

  /// `ip link set dev INDEX up`
  public static func setUp(index: Int32) -> NetlinkMessage {
    NetlinkMessage(
      type: UInt16(RTM_NEWLINK), flags: change,
      header: NetlinkMessage.ifinfomsg(index: index, flags: UInt32(IFF_UP), change: UInt32(IFF_UP)))
  }

  /// `ip link del dev INDEX`
  public static func deleteLink(index: Int32) -> NetlinkMessage {
    NetlinkMessage(type: UInt16(RTM_DELLINK), flags: change, header: NetlinkMessage.ifinfomsg(index: index))
  }

  /// `ip addr add ADDRESS/LEN dev INDEX` (IPv6 without duplicate address detection, so the
  /// address is usable at once, as `nodad` does).
  public static func newAddress(_ address: InterfaceAddress, index: Int32, delete: Bool = false) -> NetlinkMessage {
    let family = address.address.version == .v4 ? Int32(AF_INET) : Int32(AF_INET6)
    var header = NetlinkMessage.ifaddrmsg(family: family, prefixLength: UInt8(address.prefixLength), index: index)
    if address.address.version == .v6 { header[2] = UInt8(IFA_F_NODAD) }
    let bytes = addressBytes(address.address)
    return NetlinkMessage(
      type: UInt16(delete ? RTM_DELADDR : RTM_NEWADDR), flags: delete ? change : create, header: header,
      attributes: [.raw(Int32(IFA_LOCAL), bytes), .raw(Int32(IFA_ADDRESS), bytes)])
  }

  /// `ip route add DESTINATION [via GATEWAY] [dev INDEX]`; with `replace`, `ip route replace`;
  /// with `delete`, `ip route del`.
  public static func newRoute(_ route: RouteSpec, outputIndex: Int32?, replace: Bool = false, delete: Bool = false)
    -> NetlinkMessage
  {
    let family = route.version == .v4 ? Int32(AF_INET) : Int32(AF_INET6)
    let length = UInt8(route.destination?.length ?? 0)
    let scope = route.gateway == nil ? UInt8(RT_SCOPE_LINK.rawValue) : UInt8(RT_SCOPE_UNIVERSE.rawValue)
    var attributes: [NetlinkMessage.Attribute] = []
    if let d = route.destination { attributes.append(.raw(Int32(RTA_DST.rawValue), addressBytes(d.address))) }
    if let g = route.gateway { attributes.append(.raw(Int32(RTA_GATEWAY.rawValue), addressBytes(g))) }
    if let i = outputIndex { attributes.append(.u32(Int32(RTA_OIF.rawValue), UInt32(i))) }
    let flags = delete ? change : replace ? UInt16(NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE) : create
    return NetlinkMessage(
      type: UInt16(delete ? RTM_DELROUTE : RTM_NEWROUTE), flags: flags,
      header: NetlinkMessage.rtmsg(family: family, destinationLength: length, scope: scope, type: UInt8(RTN_UNICAST)),
      attributes: attributes)
  }

  /// Dump requests: `ip link show`, `ip addr show`, `ip route show table main`.
  public static func dumpLinks() -> NetlinkMessage {
    NetlinkMessage(
      type: UInt16(RTM_GETLINK), flags: UInt16(NLM_F_REQUEST | NLM_F_DUMP), header: NetlinkMessage.ifinfomsg())
  }
  public static func dumpAddresses() -> NetlinkMessage {
    NetlinkMessage(
      type: UInt16(RTM_GETADDR), flags: UInt16(NLM_F_REQUEST | NLM_F_DUMP),
      header: NetlinkMessage.ifaddrmsg(family: Int32(AF_UNSPEC), prefixLength: 0, index: 0))
  }
  public static func dumpRoutes() -> NetlinkMessage {
    NetlinkMessage(
      type: UInt16(RTM_GETROUTE), flags: UInt16(NLM_F_REQUEST | NLM_F_DUMP),
      header: NetlinkMessage.rtmsg(family: Int32(AF_UNSPEC), destinationLength: 0, scope: 0, type: 0))
  }

  /// Network-order bytes of an address.
  public static func addressBytes(_ a: IPAddress) -> [UInt8] {
    switch a {
    case .v4(let v): return withUnsafeBytes(of: v.bigEndian, Array.init)
    case .v6(let hi, let lo):
      return withUnsafeBytes(of: hi.bigEndian, Array.init) + withUnsafeBytes(of: lo.bigEndian, Array.init)
    }
  }

  static func address(_ bytes: [UInt8]) -> IPAddress? {
    if bytes.count == 4 { return .v4(bytes.reduce(0) { $0 << 8 | UInt32($1) }) }
    if bytes.count == 16 {
      return .v6(bytes[0..<8].reduce(0) { $0 << 8 | UInt64($1) }, bytes[8..<16].reduce(0) { $0 << 8 | UInt64($1) })
    }
    return nil
  }
}
