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

  static func frame(_ p: IPv6Packet) -> [UInt8] {
    let l4 = ProbePackets.transport(
      proto: p.proto, sourcePort: p.sourcePort, destinationPort: p.destinationPort, tcpFlags: p.tcpFlags,
      icmpType: p.icmpType, icmpID: p.icmpID,
      pseudo: { length in p.source + p.destination + ProbePackets.be32(UInt32(length)) + [0, 0, 0, p.proto] })
    let header: [UInt8] =
      [0x60, 0, 0, 0] + ProbePackets.be16(UInt16(l4.count)) + [p.proto, p.hopLimit] + p.source + p.destination
    return p.destinationMAC + p.sourceMAC + [0x86, 0xdd] + header + l4
  }

  static func frame(_ p: IPv4Packet) -> [UInt8] {
    let ip = ProbePackets.ipv4(
      source: p.source, destination: p.destination, proto: p.proto, id: p.icmpID, sourcePort: p.sourcePort,
      destinationPort: p.destinationPort, tcpFlags: p.tcpFlags, icmpType: p.icmpType, icmpCode: p.icmpCode)
    return p.destinationMAC + p.sourceMAC + [0x08, 0x00] + ip
  }
}
