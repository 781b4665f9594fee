import CNftnl

#if canImport(Glibc)
  import Glibc
#endif

/// An rtnetlink socket bound inside one network namespace (through libmnl). A socket keeps the
/// namespace it was opened in, so every request on it acts there.
public final class RouteSocket {
  let socket: OpaquePointer
  let portID: UInt32
  public let namespace: String
  var sequence: UInt32 = UInt32(truncatingIfNeeded: time(nil))

  /// Opens `NETLINK_ROUTE` inside `namespace` (`mnl_socket_open`, `mnl_socket_bind`).
  public convenience init(namespace: String) throws {
    let (opened, error): (OpaquePointer?, Int32) = try NetworkNamespace.run(in: namespace) {
      (mnl_socket_open(NETLINK_ROUTE), errno)
    }
    try self.init(opened: opened, error: error, namespace: namespace)
  }

  /// Opens `NETLINK_ROUTE` in the calling thread's own namespace.
  public convenience init() throws {
    let opened = mnl_socket_open(NETLINK_ROUTE)
    try self.init(opened: opened, error: errno, namespace: "(current)")
  }

  init(opened: OpaquePointer?, error: Int32, namespace: String) throws {
    self.namespace = namespace
    guard let opened else { throw NetlinkError(errno: error, operation: "open rtnetlink socket in", object: namespace) }
    guard mnl_socket_bind(opened, 0, pid_t(MNL_SOCKET_AUTOPID)) == 0 else {
      let e = errno
      mnl_socket_close(opened)
      throw NetlinkError(errno: e, operation: "bind rtnetlink socket in", object: namespace)
    }
    socket = opened
    portID = mnl_socket_get_portid(opened)
  }

  deinit { mnl_socket_close(socket) }

  /// Sends one request and waits for the kernel's acknowledgement; a negative ack becomes a
  /// `NetlinkError` naming `operation` and `object`.
  public func request(_ message: NetlinkMessage, operation: String, object: String) throws {
    sequence &+= 1
    var bytes = message.encoded(sequence: sequence)
    let sent = bytes.withUnsafeMutableBytes { mnl_socket_sendto(socket, $0.baseAddress, $0.count) }
    guard sent >= 0 else { throw NetlinkError(errno: errno, operation: operation, object: object) }
    _ = try receive(until: sequence, operation: operation, object: object) { _, _ in }
  }

  /// Sends a dump request and hands every reply message (type, payload after the netlink header)
  /// to `handle`.
  public func dump(_ message: NetlinkMessage, operation: String, _ handle: (UInt16, [UInt8]) -> Void) throws {
    sequence &+= 1
    var bytes = message.encoded(sequence: sequence)
    let sent = bytes.withUnsafeMutableBytes { mnl_socket_sendto(socket, $0.baseAddress, $0.count) }
    guard sent >= 0 else { throw NetlinkError(errno: errno, operation: operation, object: namespace) }
    _ = try receive(until: sequence, operation: operation, object: namespace, handle)
  }

  /// Reads replies for `sequence` until the ack (NLMSG_ERROR) or the end of a dump (NLMSG_DONE).
  func receive(
    until sequence: UInt32, operation: String, object: String, _ handle: (UInt16, [UInt8]) -> Void
  ) throws -> Bool {
    var buffer = [UInt8](repeating: 0, count: fb_mnl_socket_buffer_size())
    while true {
      let n = buffer.withUnsafeMutableBytes { mnl_socket_recvfrom(socket, $0.baseAddress, $0.count) }
      guard n > 0 else { throw NetlinkError(errno: errno, operation: operation, object: object) }
      var offset = 0
      while offset + 16 <= n {
        let length = Int(read32(buffer, offset))
        let type = read16(buffer, offset + 4)
        let seq = read32(buffer, offset + 8)
        guard length >= 16, offset + length <= n else { break }
        if seq == sequence {
          if type == UInt16(NLMSG_ERROR) {
            let code = Int32(bitPattern: read32(buffer, offset + 16))
            if code != 0 { throw NetlinkError(errno: -code, operation: operation, object: object) }
            return true
          }
          if type == UInt16(NLMSG_DONE) { return true }
          handle(type, Array(buffer[(offset + 16)..<(offset + length)]))
        }
        offset += (length + 3) & ~3
      }
    }
  }
}

func read16(_ b: [UInt8], _ at: Int) -> UInt16 { UInt16(b[at]) | UInt16(b[at + 1]) << 8 }
func read32(_ b: [UInt8], _ at: Int) -> UInt32 {
  UInt32(b[at]) | UInt32(b[at + 1]) << 8 | UInt32(b[at + 2]) << 16 | UInt32(b[at + 3]) << 24
}

/// The attributes of a reply payload after its fixed header: type → bytes (top level only).
func parseAttributes(_ payload: [UInt8], headerLength: Int) -> [UInt16: [UInt8]] {
  var result: [UInt16: [UInt8]] = [:]
  var offset = (headerLength + 3) & ~3
  while offset + 4 <= payload.count {
    let length = Int(read16(payload, offset))
    let type = read16(payload, offset + 2) & 0x3fff
    guard length >= 4, offset + length <= payload.count else { break }
    result[type] = Array(payload[(offset + 4)..<(offset + length)])
    offset += (length + 3) & ~3
  }
  return result
}
