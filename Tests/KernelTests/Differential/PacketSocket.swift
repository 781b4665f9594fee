import Foundation
import Verification

/// An AF_PACKET socket in a namespace, bound to one interface there (the product's
/// `ProbeSocket`), so the test can send raw frames as a host on that link would.
final class PacketSocket {
  let socket: ProbeSocket

  init(namespace: String, interface: String) throws {
    socket = try ProbeSocket.packet(in: namespace, interface: interface, ethertype: 0x0003)  // ETH_P_ALL
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
    for frame in frames { try socket.send(frame: frame) }
  }
}
