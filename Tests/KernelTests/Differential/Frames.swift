import Verification

/// Builds Ethernet frames carrying IPv4 or IPv6 TCP, UDP or ICMP(v6) with correct checksums, to be sent
/// on an AF_PACKET socket as if a host on the link had sent them.
enum Frames {
  struct IPv4Packet {
    var sourceMAC: [UInt8]
    var destinationMAC: [UInt8]
    var source: UInt32
    var destination: UInt32
    var proto: UInt8
    var sourcePort: UInt16 = 0
    var destinationPort: UInt16 = 0
    var tcpFlags: UInt8 = 0x02
    var icmpType: UInt8 = 8
    var icmpCode: UInt8 = 0
    var icmpID: UInt16 = 1
    var ttl: UInt8 = 64
  }

  struct IPv6Packet {
    var sourceMAC: [UInt8]
    var destinationMAC: [UInt8]
    /// 16 bytes each.
    var source: [UInt8]
    var destination: [UInt8]
    var proto: UInt8
    var sourcePort: UInt16 = 0
    var destinationPort: UInt16 = 0
    var tcpFlags: UInt8 = 0x02
    var icmpType: UInt8 = 128
    var icmpID: UInt16 = 1
    var hopLimit: UInt8 = 64
  }

  /// The transport header and payload, with the checksum over `pseudo` filled in.
  static func transport(
    proto: UInt8, sourcePort: UInt16, destinationPort: UInt16, tcpFlags: UInt8, icmpType: UInt8, icmpCode: UInt8,
    icmpID: UInt16, pseudo: (Int) -> [UInt8], icmpUsesPseudo: Bool
  ) -> [UInt8] {
    var l4: [UInt8]
    switch proto {
    case 6:
      l4 = be16(sourcePort) + be16(destinationPort) + be32(1000) + be32(tcpFlags & 0x10 != 0 ? 1 : 0)
      l4 += [0x50, tcpFlags] + be16(64240) + [0, 0] + [0, 0]
    case 17:
      l4 = be16(sourcePort) + be16(destinationPort) + be16(8 + 4) + [0, 0] + [0xde, 0xad, 0xbe, 0xef]
    default:
      l4 = [icmpType, icmpCode, 0, 0] + be16(icmpID) + be16(1) + [0x66, 0x62, 0x74, 0x21]
    }
    let at = proto == 6 ? 16 : proto == 17 ? 6 : 2
    let covered = (proto == 6 || proto == 17 || icmpUsesPseudo) ? pseudo(l4.count) + l4 : l4
    var c = checksum(covered)
    if proto == 17 && c == 0 { c = 0xffff }
    l4[at] = UInt8(c >> 8)
    l4[at + 1] = UInt8(c & 0xff)
    return l4
  }

  static func frame(_ p: IPv6Packet) -> [UInt8] {
    let l4 = transport(
      proto: p.proto, sourcePort: p.sourcePort, destinationPort: p.destinationPort, tcpFlags: p.tcpFlags,
      icmpType: p.icmpType, icmpCode: 0, icmpID: p.icmpID,
      pseudo: { length in p.source + p.destination + be32(UInt32(length)) + [0, 0, 0, p.proto] }, icmpUsesPseudo: true)
    let header: [UInt8] = [0x60, 0, 0, 0] + be16(UInt16(l4.count)) + [p.proto, p.hopLimit] + p.source + p.destination
    return p.destinationMAC + p.sourceMAC + [0x86, 0xdd] + header + l4
  }

  static func be16(_ v: UInt16) -> [UInt8] { ProbePackets.be16(v) }
  static func be32(_ v: UInt32) -> [UInt8] { ProbePackets.be32(v) }
  static func checksum(_ bytes: [UInt8]) -> UInt16 { ProbePackets.checksum(bytes) }

  static func frame(_ p: IPv4Packet) -> [UInt8] {
    let l4 = transport(
      proto: p.proto, sourcePort: p.sourcePort, destinationPort: p.destinationPort, tcpFlags: p.tcpFlags,
      icmpType: p.icmpType, icmpCode: p.icmpCode, icmpID: p.icmpID,
      pseudo: { length in be32(p.source) + be32(p.destination) + [0, p.proto] + be16(UInt16(length)) },
      icmpUsesPseudo: false)
    var ip: [UInt8] = [0x45, 0] + be16(UInt16(20 + l4.count)) + be16(0x1234) + [0x40, 0] + [p.ttl, p.proto, 0, 0]
    ip += be32(p.source) + be32(p.destination)
    let c = checksum(ip)
    ip[10] = UInt8(c >> 8)
    ip[11] = UInt8(c & 0xff)
    return p.destinationMAC + p.sourceMAC + [0x08, 0x00] + ip + l4
  }
}
