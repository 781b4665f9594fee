import CNftnl
import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// A `NETLINK_NETFILTER` socket (libmnl), bound in the network namespace of the thread that opened
/// it; every request on it acts there.
final class NFTSocket {
  let socket: OpaquePointer
  let portID: UInt32
  private(set) var sequence: UInt32 = UInt32(truncatingIfNeeded: time(nil)) &* 1000
  private var buffer = [UInt8](repeating: 0, count: 1 << 20)

  /// `mnl_socket_open(NETLINK_NETFILTER)` and `mnl_socket_bind`.
  init() throws {
    guard let s = mnl_socket_open(NETLINK_NETFILTER) else {
      throw NFTKernelError(errno: errno, operation: "open", object: "netfilter netlink socket")
    }
    guard mnl_socket_bind(s, 0, pid_t(MNL_SOCKET_AUTOPID)) == 0 else {
      let e = errno
      mnl_socket_close(s)
      throw NFTKernelError(errno: e, operation: "bind", object: "netfilter netlink socket")
    }
    socket = s
    portID = mnl_socket_get_portid(s)
  }

  deinit { mnl_socket_close(socket) }

  var fd: Int32 { mnl_socket_get_fd(socket) }

  /// Sends a whole batch in one `sendto` and checks every message's ack. The kernel handles the
  /// batch inside the send, so every ack is queued when it returns. Throws the first refusal,
  /// naming its object; the kernel then aborted the whole transaction.
  func send(_ batch: Batch) throws {
    let bytes = batch.finish()
    sequence = batch.sequence
    // One batch must fit one send, and all its acks the receive queue: ask for room (as root,
    // the *FORCE options pass the sysctl limits).
    setBuffer(SO_SNDBUFFORCE, bytes.count + 65536)
    setBuffer(SO_RCVBUFFORCE, batch.messageCount * 1024 + (1 << 20))
    let sent = bytes.withUnsafeBytes { mnl_socket_sendto(socket, $0.baseAddress, $0.count) }
    guard sent == bytes.count else {
      throw NFTKernelError(errno: sent < 0 ? errno : EMSGSIZE, operation: "send", object: "nftables batch")
    }
    var acked = 0
    var failures: [(UInt32, Int32)] = []
    while true {
      let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
      if n < 0 {
        if errno == EAGAIN || errno == EWOULDBLOCK { break }
        if errno == EINTR { continue }
        throw NFTKernelError(errno: errno, operation: "read acknowledgements of", object: "nftables batch")
      }
      forEachMessage(n) { type, seq, payload in
        guard type == UInt16(NLMSG_ERROR), payload.count >= 4 else { return }
        let code = payload.load(as: Int32.self)
        if code == 0 { acked += 1 } else { failures.append((seq, -code)) }
      }
    }
    if let (seq, code) = failures.min(by: { $0.0 < $1.0 }) {
      let origin = batch.origins[seq] ?? .init(operation: "apply", object: "nftables batch")
      throw NFTKernelError(errno: code, operation: origin.operation, object: origin.object, location: origin.location)
    }
    guard acked == batch.messageCount else {
      throw NFTKernelError(
        errno: ENOBUFS, operation: "confirm (\(acked) of \(batch.messageCount) acks)", object: "nftables batch")
    }
  }

  /// Sends a dump request (`NLM_F_DUMP`) and hands every reply message to `handle` until
  /// `NLMSG_DONE`.
  func dump(
    _ type: nf_tables_msg_types, family: UInt16 = 0, object: String, flags: Int32 = NLM_F_DUMP,
    build: (UnsafeMutablePointer<nlmsghdr>) -> Void = { _ in },
    _ handle: (UnsafeMutablePointer<nlmsghdr>) throws -> Void
  ) throws {
    sequence &+= 1
    let seq = sequence
    var request = [UInt8](repeating: 0, count: 8192)
    let length: Int = request.withUnsafeMutableBytes { raw in
      let nlh = nftnl_nlmsg_build_hdr(
        raw.baseAddress!.assumingMemoryBound(to: CChar.self), UInt16(type.rawValue), family,
        UInt16(flags), seq)!
      build(nlh)
      return Int(nlh.pointee.nlmsg_len)
    }
    let sent = request.withUnsafeBytes { mnl_socket_sendto(socket, $0.baseAddress, length) }
    guard sent == length else { throw NFTKernelError(errno: errno, operation: "request", object: object) }
    var done = false
    while !done {
      let n = buffer.withUnsafeMutableBytes { mnl_socket_recvfrom(socket, $0.baseAddress, $0.count) }
      guard n > 0 else { throw NFTKernelError(errno: errno, operation: "read", object: object) }
      var failure: Int32?
      var handlerError: Error?
      forEachMessage(n) { msgType, msgSeq, payload in
        guard msgSeq == seq, !done, failure == nil, handlerError == nil else { return }
        if msgType == UInt16(NLMSG_DONE) {
          done = true
        } else if msgType == UInt16(NLMSG_ERROR) {
          let code = payload.load(as: Int32.self)
          if code != 0 { failure = -code } else { done = true }
        } else {
          let nlh = UnsafeMutableRawPointer(mutating: payload.baseAddress!).advanced(by: -16)
          do { try handle(nlh.assumingMemoryBound(to: nlmsghdr.self)) } catch { handlerError = error }
        }
      }
      if let failure { throw NFTKernelError(errno: failure, operation: "list", object: object) }
      if let handlerError { throw handlerError }
    }
  }

  /// Walks the netlink messages in the first `count` bytes of the receive buffer.
  private func forEachMessage(_ count: Int, _ body: (UInt16, UInt32, UnsafeRawBufferPointer) -> Void) {
    buffer.withUnsafeBytes { raw in
      var offset = 0
      while offset + 16 <= count {
        let length = Int(raw.load(fromByteOffset: offset, as: UInt32.self))
        guard length >= 16, offset + length <= count else { break }
        let type = raw.load(fromByteOffset: offset + 4, as: UInt16.self)
        let seq = raw.load(fromByteOffset: offset + 8, as: UInt32.self)
        body(type, seq, UnsafeRawBufferPointer(rebasing: raw[(offset + 16)..<(offset + length)]))
        offset += (length + 3) & ~3
      }
    }
  }

  private func setBuffer(_ option: Int32, _ size: Int) {
    var value = Int32(clamping: size)
    _ = setsockopt(fd, SOL_SOCKET, option, &value, socklen_t(MemoryLayout<Int32>.size))
  }
}
