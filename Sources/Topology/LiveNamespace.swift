import CNftnl
import NetfilterModel

/// What one namespace holds right now, read over rtnetlink (`ip link`, `ip addr`, `ip route`).
public struct LiveNamespace: Sendable {
  public struct Link: Sendable, Equatable {
    public var index: Int32
    public var name: String
    /// `veth`, `bridge`, … (nil for loopback and kinds the kernel does not name).
    public var kind: String?
    public var masterIndex: Int32?
    public var isUp: Bool
    /// The link-layer address (6 bytes for Ethernet), when it has one.
    public var hardwareAddress: [UInt8] = []
  }

  public struct Address: Sendable, Equatable {
    public var index: Int32
    public var address: InterfaceAddress
    /// `RT_SCOPE_LINK` addresses (IPv6 fe80::/64) are the kernel's own, never the topology's.
    public var isLinkScope: Bool = false
  }

  public struct Route: Sendable, Equatable {
    public var version: IPVersion
    public var destination: IPPrefix?
    public var gateway: IPAddress?
    public var outputIndex: Int32?
  }

  public var name: String
  public var links: [Link]
  public var addresses: [Address]
  public var routes: [Route]

  public func link(_ name: String) -> Link? { links.first { $0.name == name } }
  public func link(index: Int32) -> Link? { links.first { $0.index == index } }

  /// Reads the namespace through `socket`.
  public static func read(_ socket: RouteSocket) throws -> LiveNamespace {
    var links: [Link] = []
    try socket.dump(RTNetlink.dumpLinks(), operation: "list links in") { type, payload in
      guard type == UInt16(RTM_NEWLINK), payload.count >= 16 else { return }
      let index = Int32(bitPattern: read32(payload, 4))
      let flags = read32(payload, 8)
      let attributes = parseAttributes(payload, headerLength: 16)
      guard let nameBytes = attributes[UInt16(IFLA_IFNAME)] else { return }
      let name = String(decoding: nameBytes.prefix { $0 != 0 }, as: UTF8.self)
      var kind: String?
      if let info = attributes[UInt16(IFLA_LINKINFO)] {
        let nested = parseAttributes(info, headerLength: 0)
        if let k = nested[UInt16(IFLA_INFO_KIND)] { kind = String(decoding: k.prefix { $0 != 0 }, as: UTF8.self) }
      }
      let master = attributes[UInt16(IFLA_MASTER)].map { Int32(bitPattern: read32($0, 0)) }
      links.append(
        Link(
          index: index, name: name, kind: kind, masterIndex: master, isUp: flags & UInt32(IFF_UP) != 0,
          hardwareAddress: attributes[UInt16(IFLA_ADDRESS)] ?? []))
    }
    var addresses: [Address] = []
    try socket.dump(RTNetlink.dumpAddresses(), operation: "list addresses in") { type, payload in
      guard type == UInt16(RTM_NEWADDR), payload.count >= 8 else { return }
      let prefixLength = Int(payload[1])
      let scope = payload[3]
      let index = Int32(bitPattern: read32(payload, 4))
      let attributes = parseAttributes(payload, headerLength: 8)
      guard let bytes = attributes[UInt16(IFA_LOCAL)] ?? attributes[UInt16(IFA_ADDRESS)],
        let address = RTNetlink.address(bytes)
      else { return }
      addresses.append(
        Address(
          index: index, address: InterfaceAddress(address: address, prefixLength: prefixLength),
          isLinkScope: scope == UInt8(RT_SCOPE_LINK.rawValue) || scope == UInt8(RT_SCOPE_HOST.rawValue)))
    }
    var routes: [Route] = []
    try socket.dump(RTNetlink.dumpRoutes(), operation: "list routes in") { type, payload in
      guard type == UInt16(RTM_NEWROUTE), payload.count >= 12 else { return }
      let length = Int(payload[1])
      let attributes = parseAttributes(payload, headerLength: 12)
      let table = attributes[UInt16(RTA_TABLE.rawValue)].map { read32($0, 0) } ?? UInt32(payload[4])
      guard table == UInt32(RT_TABLE_MAIN.rawValue), payload[7] == UInt8(RTN_UNICAST) else { return }
      let destination = attributes[UInt16(RTA_DST.rawValue)].flatMap(RTNetlink.address).map {
        IPPrefix(address: $0, length: length)
      }
      routes.append(
        Route(
          version: Int32(payload[0]) == AF_INET6 ? .v6 : .v4, destination: destination,
          gateway: attributes[UInt16(RTA_GATEWAY.rawValue)].flatMap(RTNetlink.address),
          outputIndex: attributes[UInt16(RTA_OIF.rawValue)].map { Int32(bitPattern: read32($0, 0)) }))
    }
    return LiveNamespace(name: socket.namespace, links: links, addresses: addresses, routes: routes)
  }
}
