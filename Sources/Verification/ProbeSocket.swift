import CNftnl
import Foundation
import NetfilterModel
import Topology

#if canImport(Glibc)
  import Glibc
#endif

/// Sockets opened inside a namespace for probes: raw IP sockets (the kernel routes, resolves ARP
/// and runs the sender's output hooks; a receiver's raw socket only sees what passed its input
/// hooks) and packet sockets for ARP (and for the kernel tests' raw frames).
public final class ProbeSocket {
  public let fd: Int32

  private init(fd: Int32) { self.fd = fd }
  deinit { close(fd) }

  /// `socket(AF_INET, SOCK_RAW, proto)` in `namespace`; with IPPROTO_RAW the caller writes the IP header.
  static func raw(in namespace: String, proto: Int32) throws -> ProbeSocket {
    let (fd, error) = try NetworkNamespace.run(in: namespace) {
      (socket(AF_INET, Int32(SOCK_RAW.rawValue), proto), errno)
    }
    guard fd >= 0 else { throw NetlinkError(errno: error, operation: "open raw socket in", object: namespace) }
    return ProbeSocket(fd: fd)
  }

  /// `socket(AF_PACKET, SOCK_RAW, ETH_P_ARP)` bound to `interface` in `namespace`.
  static func arp(in namespace: String, interface: String) throws -> ProbeSocket {
    try packet(in: namespace, interface: interface, ethertype: 0x0806)
  }

  /// `socket(AF_PACKET, SOCK_RAW, ethertype)` bound to `interface` in `namespace`
  /// (0x0003, ETH_P_ALL, for every frame).
  public static func packet(in namespace: String, interface: String, ethertype: UInt16) throws -> ProbeSocket {
    let (fd, error, index): (Int32, Int32, UInt32) = try NetworkNamespace.run(in: namespace) {
      let fd = Glibc.socket(AF_PACKET, Int32(SOCK_RAW.rawValue), Int32(ethertype.bigEndian))
      return (fd, errno, if_nametoindex(interface))
    }
    guard fd >= 0 else { throw NetlinkError(errno: error, operation: "open packet socket in", object: namespace) }
    let probe = ProbeSocket(fd: fd)
    guard index != 0 else {
      throw NetlinkError(errno: ENODEV, operation: "open packet socket on", object: "\(interface) in \(namespace)")
    }
    var address = [UInt8](repeating: 0, count: 20)  // struct sockaddr_ll
    address[0] = UInt8(AF_PACKET & 0xff)
    address[2] = UInt8(ethertype >> 8)
    address[3] = UInt8(ethertype & 0xff)
    withUnsafeBytes(of: Int32(index)) { for (k, b) in $0.enumerated() { address[4 + k] = b } }
    let bound = address.withUnsafeBytes {
      bind(fd, $0.baseAddress!.assumingMemoryBound(to: sockaddr.self), socklen_t(20))
    }
    guard bound == 0 else {
      throw NetlinkError(errno: errno, operation: "bind packet socket to", object: "\(interface) in \(namespace)")
    }
    return probe
  }

  /// Sends an IP packet (header included) to `destination` through the kernel's routing.
  /// Returns false when the kernel refused to send it: the sender's own output hooks dropped it
  /// (EPERM) or there is no route or neighbour (ENETUNREACH, EHOSTUNREACH).
  func send(ip packet: [UInt8], to destination: UInt32) throws -> Bool {
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = destination.bigEndian
    let n = packet.withUnsafeBytes { bytes in
      withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
          sendto(fd, bytes.baseAddress, bytes.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
        }
      }
    }
    guard n < 0 else { return true }
    if [EPERM, ENETUNREACH, EHOSTUNREACH].contains(errno) { return false }
    throw NetlinkError(errno: errno, operation: "send probe to", object: "\(IPAddress.v4(destination))")
  }

  /// Sends a link-layer frame on a packet socket.
  public func send(frame: [UInt8]) throws {
    let n = frame.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, 0) }
    guard n == frame.count else { throw NetlinkError(errno: errno, operation: "send frame", object: "ARP") }
  }

  /// Waits (at most `timeout` ms in total) for a datagram that `accept` recognises.
  func receive(within timeout: Int32, _ accept: ([UInt8]) -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(Double(timeout) / 1000)
    var buffer = [UInt8](repeating: 0, count: 2048)
    while true {
      let left = Int32(max(0, deadline.timeIntervalSinceNow * 1000))
      var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
      guard poll(&pfd, 1, left) > 0 else { return false }
      let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
      if n > 0 && accept(Array(buffer[0..<n])) { return true }
      if left == 0 { return false }
    }
  }
}

/// IPv4 probe packets with correct checksums (also used by the kernel tests' frame builder).
public enum ProbePackets {
  public static func be16(_ v: UInt16) -> [UInt8] { [UInt8(v >> 8), UInt8(v & 0xff)] }
  public static func be32(_ v: UInt32) -> [UInt8] {
    [UInt8(v >> 24), UInt8((v >> 16) & 0xff), UInt8((v >> 8) & 0xff), UInt8(v & 0xff)]
  }

  public static func checksum(_ bytes: [UInt8]) -> UInt16 {
    var sum: UInt32 = 0
    var i = 0
    while i + 1 < bytes.count {
      sum += UInt32(bytes[i]) << 8 | UInt32(bytes[i + 1])
      i += 2
    }
    if i < bytes.count { sum += UInt32(bytes[i]) << 8 }
    while sum >> 16 != 0 { sum = (sum & 0xffff) + (sum >> 16) }
    return ~UInt16(sum)
  }

  /// A TCP (SYN unless told), UDP or ICMP header with a small payload, its checksum computed
  /// over `pseudo(length)` (the IPv4/IPv6 pseudo-header; nil for ICMPv4, which has none).
  public static func transport(
    proto: UInt8, sourcePort: UInt16, destinationPort: UInt16, tcpFlags: UInt8 = 0x02, icmpType: UInt8 = 8,
    icmpCode: UInt8 = 0, icmpID: UInt16, pseudo: ((Int) -> [UInt8])?
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
    var c = checksum((pseudo?(l4.count) ?? []) + l4)
    if proto == 17 && c == 0 { c = 0xffff }  // 0 would mean "no checksum"
    l4[at] = UInt8(c >> 8)
    l4[at + 1] = UInt8(c & 0xff)
    return l4
  }

  /// An IPv4 packet (header and payload); `id` marks the probe (IP id and ICMP id) so the receiver
  /// can recognise it.
  public static func ipv4(
    source: UInt32, destination: UInt32, proto: UInt8, id: UInt16, sourcePort: UInt16, destinationPort: UInt16,
    tcpFlags: UInt8 = 0x02, icmpType: UInt8 = 8, icmpCode: UInt8 = 0
  ) -> [UInt8] {
    let l4 = transport(
      proto: proto, sourcePort: sourcePort, destinationPort: destinationPort, tcpFlags: tcpFlags, icmpType: icmpType,
      icmpCode: icmpCode, icmpID: id,
      pseudo: proto == 1 ? nil : { length in be32(source) + be32(destination) + [0, proto] + be16(UInt16(length)) })
    var ip: [UInt8] = [0x45, 0] + be16(UInt16(20 + l4.count)) + be16(id) + [0x40, 0, 64, proto, 0, 0]
    ip += be32(source) + be32(destination)
    let h = checksum(ip)
    ip[10] = UInt8(h >> 8)
    ip[11] = UInt8(h & 0xff)
    return ip + l4
  }

  /// An Ethernet ARP request: who has `target`? tell `sender`.
  static func arpRequest(senderMAC: [UInt8], sender: UInt32, target: UInt32) -> [UInt8] {
    let broadcast = [UInt8](repeating: 0xff, count: 6)
    return broadcast + senderMAC + [0x08, 0x06] + [0, 1, 0x08, 0, 6, 4, 0, 1] + senderMAC + be32(sender)
      + [UInt8](repeating: 0, count: 6) + be32(target)
  }
}
