import CNftnl

/// A netlink message built in Swift: header, fixed family header, and (nested) attributes,
/// 4-byte aligned as the kernel expects. Built as bytes so it can be dumped and tested without
/// a socket; sent through libmnl.
public struct NetlinkMessage: Equatable, Sendable {
  public var type: UInt16
  public var flags: UInt16
  /// The family header (`struct ifinfomsg`, `ifaddrmsg`, `rtmsg`) as bytes.
  public var header: [UInt8]
  public var attributes: [Attribute]

  /// One netlink attribute: a type and a payload, or nested attributes.
  public struct Attribute: Equatable, Sendable {
    public var type: UInt16
    public var payload: Payload
    public enum Payload: Equatable, Sendable {
      case bytes([UInt8])
      case nested(prefix: [UInt8], [Attribute])
    }
    public static func string(_ type: Int32, _ s: String) -> Attribute {
      Attribute(type: UInt16(type), payload: .bytes(Array(s.utf8) + [0]))
    }
    public static func u32(_ type: Int32, _ v: UInt32) -> Attribute {
      Attribute(type: UInt16(type), payload: .bytes(withUnsafeBytes(of: v.littleEndian, Array.init)))
    }
    public static func u8(_ type: Int32, _ v: UInt8) -> Attribute {
      Attribute(type: UInt16(type), payload: .bytes([v]))
    }
    public static func raw(_ type: Int32, _ bytes: [UInt8]) -> Attribute {
      Attribute(type: UInt16(type), payload: .bytes(bytes))
    }
    /// A nested attribute (NLA_F_NESTED is not set, as iproute2 does for IFLA_LINKINFO), optionally
    /// starting with a fixed struct (the veth peer's `ifinfomsg`).
    public static func nest(_ type: Int32, prefix: [UInt8] = [], _ children: [Attribute]) -> Attribute {
      Attribute(type: UInt16(type), payload: .nested(prefix: prefix, children))
    }

    var encoded: [UInt8] {
      var body: [UInt8]
      switch payload {
      case .bytes(let b): body = b
      case .nested(let prefix, let children): body = prefix + children.flatMap(\.encoded)
      }
      let length = UInt16(4 + body.count)
      var out =
        withUnsafeBytes(of: length.littleEndian, Array.init) + withUnsafeBytes(of: type.littleEndian, Array.init)
      out += body
      out += [UInt8](repeating: 0, count: NetlinkMessage.padding(out.count))
      return out
    }
  }

  public init(type: UInt16, flags: UInt16, header: [UInt8], attributes: [Attribute] = []) {
    self.type = type
    self.flags = flags
    self.header = header
    self.attributes = attributes
  }

  static func padding(_ n: Int) -> Int { (4 - n % 4) % 4 }

  /// The message bytes with `sequence` (the port id is filled in by the kernel).
  public func encoded(sequence: UInt32) -> [UInt8] {
    var body = header + [UInt8](repeating: 0, count: NetlinkMessage.padding(header.count))
    body += attributes.flatMap(\.encoded)
    let length = UInt32(16 + body.count)
    var out = withUnsafeBytes(of: length.littleEndian, Array.init)
    out += withUnsafeBytes(of: type.littleEndian, Array.init) + withUnsafeBytes(of: flags.littleEndian, Array.init)
    out += withUnsafeBytes(of: sequence.littleEndian, Array.init) + [0, 0, 0, 0]
    return out + body
  }

  // MARK: Family headers

  /// `struct ifinfomsg` (16 bytes): family, type, index, flags, change.
  public static func ifinfomsg(index: Int32 = 0, flags: UInt32 = 0, change: UInt32 = 0) -> [UInt8] {
    [UInt8(AF_UNSPEC), 0, 0, 0] + le(index) + le(flags) + le(change)
  }

  /// `struct ifaddrmsg` (8 bytes): family, prefixlen, flags, scope, index.
  public static func ifaddrmsg(family: Int32, prefixLength: UInt8, index: Int32) -> [UInt8] {
    [UInt8(family), prefixLength, 0, 0] + le(index)
  }

  /// `struct rtmsg` (12 bytes): family, dst_len, src_len, tos, table, protocol, scope, type, flags.
  public static func rtmsg(family: Int32, destinationLength: UInt8, scope: UInt8, type: UInt8) -> [UInt8] {
    [UInt8(family), destinationLength, 0, 0, UInt8(RT_TABLE_MAIN.rawValue), UInt8(RTPROT_BOOT), scope, type]
      + le(UInt32(0))
  }

  static func le<T: FixedWidthInteger>(_ v: T) -> [UInt8] { withUnsafeBytes(of: v.littleEndian, Array.init) }
}

extension NetlinkMessage: CustomStringConvertible {
  static let typeNames: [UInt16: String] = [
    UInt16(RTM_NEWLINK): "RTM_NEWLINK", UInt16(RTM_DELLINK): "RTM_DELLINK", UInt16(RTM_GETLINK): "RTM_GETLINK",
    UInt16(RTM_SETLINK): "RTM_SETLINK", UInt16(RTM_NEWADDR): "RTM_NEWADDR", UInt16(RTM_DELADDR): "RTM_DELADDR",
    UInt16(RTM_GETADDR): "RTM_GETADDR", UInt16(RTM_NEWROUTE): "RTM_NEWROUTE", UInt16(RTM_GETROUTE): "RTM_GETROUTE",
    UInt16(RTM_DELROUTE): "RTM_DELROUTE",
  ]
  static let flagNames: [(UInt16, String)] = [
    (UInt16(NLM_F_REQUEST), "REQUEST"), (UInt16(NLM_F_ACK), "ACK"), (UInt16(NLM_F_CREATE), "CREATE"),
    (UInt16(NLM_F_EXCL), "EXCL"), (UInt16(NLM_F_REPLACE), "REPLACE"), (UInt16(NLM_F_DUMP), "DUMP"),
  ]

  static let linkNames: [UInt16: String] = [
    UInt16(IFLA_IFNAME): "IFLA_IFNAME", UInt16(IFLA_LINKINFO): "IFLA_LINKINFO", UInt16(IFLA_MASTER): "IFLA_MASTER",
    UInt16(IFLA_NET_NS_FD): "IFLA_NET_NS_FD", UInt16(IFLA_ADDRESS): "IFLA_ADDRESS",
  ]
  static let linkInfoNames: [UInt16: String] = [
    UInt16(IFLA_INFO_KIND): "IFLA_INFO_KIND", UInt16(IFLA_INFO_DATA): "IFLA_INFO_DATA",
  ]
  static let addressNames: [UInt16: String] = [UInt16(IFA_LOCAL): "IFA_LOCAL", UInt16(IFA_ADDRESS): "IFA_ADDRESS"]
  static let routeNames: [UInt16: String] = [
    UInt16(RTA_DST.rawValue): "RTA_DST", UInt16(RTA_GATEWAY.rawValue): "RTA_GATEWAY",
    UInt16(RTA_OIF.rawValue): "RTA_OIF",
  ]

  /// A readable dump, one attribute per line (golden tests compare it).
  public var description: String {
    let name = NetlinkMessage.typeNames[type] ?? "type \(type)"
    let flagText = NetlinkMessage.flagNames.filter { flags & $0.0 == $0.0 && $0.0 != 0 }.map(\.1)
    var lines = ["\(name) flags=\(flagText.joined(separator: ","))", "  header " + hex(header)]
    func render(_ a: Attribute, _ depth: Int, _ names: [UInt16: String], _ context: String) {
      let pad = String(repeating: "  ", count: depth)
      let label = names[a.type] ?? "attr \(a.type)"
      switch a.payload {
      case .bytes(let b):
        lines.append("\(pad)\(label) " + readable(b))
      case .nested(let prefix, let children):
        lines.append("\(pad)\(label)" + (prefix.isEmpty ? "" : " ifinfomsg " + hex(prefix)))
        let inner: [UInt16: String]
        switch (context, label) {
        case (_, "IFLA_LINKINFO"): inner = NetlinkMessage.linkInfoNames
        case (_, "IFLA_INFO_DATA"): inner = [UInt16(VETH_INFO_PEER): "VETH_INFO_PEER"]
        case (_, "VETH_INFO_PEER"): inner = NetlinkMessage.linkNames
        default: inner = [:]
        }
        for c in children { render(c, depth + 1, inner, label) }
      }
    }
    let top: [UInt16: String]
    switch Int32(type) {
    case Int32(RTM_NEWADDR), Int32(RTM_DELADDR), Int32(RTM_GETADDR): top = NetlinkMessage.addressNames
    case Int32(RTM_NEWROUTE), Int32(RTM_DELROUTE), Int32(RTM_GETROUTE): top = NetlinkMessage.routeNames
    default: top = NetlinkMessage.linkNames
    }
    for a in attributes { render(a, 1, top, "") }
    return lines.joined(separator: "\n")
  }

  func hex(_ b: [UInt8]) -> String {
    b.map { $0 < 16 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
  }

  func readable(_ b: [UInt8]) -> String {
    if b.count > 1, b.last == 0, b.dropLast().allSatisfy({ $0 >= 0x20 && $0 < 0x7f }) {
      return "\"" + String(decoding: b.dropLast(), as: UTF8.self) + "\""
    }
    return hex(b)
  }
}
