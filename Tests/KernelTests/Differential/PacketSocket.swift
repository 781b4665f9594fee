import Foundation

/// An AF_PACKET socket opened inside a network namespace and bound to one interface there, so
/// the test can send raw frames as a host on that link would. The socket stays in the namespace
/// it was created in; the calling thread switches back at once.
final class PacketSocket {
  let fd: Int32

  private typealias SetNS = @convention(c) (Int32, Int32) -> Int32
  /// `setns(2)`, looked up at run time (Swift's Glibc module does not export it).
  private static let setns: SetNS = unsafeBitCast(
    dlsym(UnsafeMutableRawPointer(bitPattern: 0), "setns"), to: SetNS.self)
  private static let cloneNewNet: Int32 = 0x4000_0000

  init(namespace: String, interface: String) throws {
    let target = open("/run/netns/\(namespace)", O_RDONLY)
    guard target >= 0 else { throw TestFailure("cannot open /run/netns/\(namespace): errno \(errno)") }
    defer { close(target) }
    let home = open("/proc/thread-self/ns/net", O_RDONLY)
    guard home >= 0 else { throw TestFailure("cannot open this thread's network namespace: errno \(errno)") }
    defer { close(home) }
    guard PacketSocket.setns(target, PacketSocket.cloneNewNet) == 0 else {
      throw TestFailure("setns into \(namespace) failed: errno \(errno)")
    }
    let sock = socket(AF_PACKET, Int32(SOCK_RAW.rawValue), Int32(UInt16(0x0003).bigEndian))  // ETH_P_ALL
    let index = if_nametoindex(interface)
    let savedErrno = errno
    // Always go home before anything can throw.
    let back = PacketSocket.setns(home, PacketSocket.cloneNewNet)
    precondition(back == 0, "cannot return to the test's network namespace")
    guard sock >= 0 else { throw TestFailure("socket(AF_PACKET) in \(namespace) failed: errno \(savedErrno)") }
    guard index != 0 else {
      close(sock)
      throw TestFailure("no interface \(interface) in \(namespace)")
    }
    // struct sockaddr_ll: family, protocol, ifindex, hatype, pkttype, halen, addr[8] (20 bytes).
    var address = [UInt8](repeating: 0, count: 20)
    address[0] = UInt8(AF_PACKET & 0xff)
    address[1] = UInt8(AF_PACKET >> 8)
    address[2] = 0x00
    address[3] = 0x03
    withUnsafeBytes(of: Int32(index)) { for (k, b) in $0.enumerated() { address[4 + k] = b } }
    let bound = address.withUnsafeBytes { raw in
      bind(sock, raw.baseAddress!.assumingMemoryBound(to: sockaddr.self), socklen_t(raw.count))
    }
    guard bound == 0 else {
      close(sock)
      throw TestFailure("bind(AF_PACKET, \(interface)) failed: errno \(errno)")
    }
    fd = sock
  }

  private typealias Affinity = @convention(c) (Int32, Int, UnsafeRawPointer) -> Int32
  private static let setAffinity: Affinity = unsafeBitCast(
    dlsym(UnsafeMutableRawPointer(bitPattern: 0), "sched_setaffinity"), to: Affinity.self)
  private static let getAffinity: @convention(c) (Int32, Int, UnsafeMutableRawPointer) -> Int32 = unsafeBitCast(
    dlsym(UnsafeMutableRawPointer(bitPattern: 0), "sched_getaffinity"),
    to: (@convention(c) (Int32, Int, UnsafeMutableRawPointer) -> Int32).self)

  /// Sends frames from one CPU, so they land on one CPU's receive backlog and are processed in
  /// order (veth hands a frame to the backlog of the CPU that sent it).
  func sendInOrder(_ frames: [[UInt8]]) throws {
    var saved = [UInt8](repeating: 0, count: 128)
    let haveSaved = saved.withUnsafeMutableBytes { PacketSocket.getAffinity(0, 128, $0.baseAddress!) } == 0
    var one = [UInt8](repeating: 0, count: 128)
    one[0] = 1  // CPU 0
    _ = one.withUnsafeBytes { PacketSocket.setAffinity(0, 128, $0.baseAddress!) }
    defer {
      if haveSaved { _ = saved.withUnsafeBytes { PacketSocket.setAffinity(0, 128, $0.baseAddress!) } }
    }
    for frame in frames { try send(frame) }
  }

  func send(_ frame: [UInt8]) throws {
    let n = frame.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, 0) }
    guard n == frame.count else { throw TestFailure("send on packet socket failed: errno \(errno)") }
  }

  deinit { close(fd) }
}
