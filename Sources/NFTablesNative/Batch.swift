import CNftnl
import NetfilterModel

/// One nf_tables transaction being built: `NFNL_MSG_BATCH_BEGIN`, the messages, `…_END`, in one
/// contiguous buffer sent with one `sendmsg` (the kernel applies all of it or none). Each message
/// asks for an ack and remembers what it was about, so a refusal names its object.
final class Batch {
  /// What a message does, for error reports.
  struct Origin {
    var operation: String
    var object: String
    var location: SourceLocation?
  }

  private(set) var bytes: [UInt8] = []
  private(set) var origins: [UInt32: Origin] = [:]
  private(set) var sequence: UInt32
  private(set) var messageCount = 0
  /// One message is built here, then copied into `bytes` (libnftnl writes without bounds checks;
  /// the largest message, a set-element chunk, stays under 64 KiB + one element).
  private let scratch: UnsafeMutableRawPointer
  private static let scratchSize = 1 << 18
  private var nextSetID: UInt32 = 1

  init(firstSequence: UInt32) {
    sequence = firstSequence
    scratch = UnsafeMutableRawPointer.allocate(byteCount: Batch.scratchSize, alignment: 8)
    append(nftnl_batch_begin(scratch.assumingMemoryBound(to: CChar.self), nextSequence()))
  }

  deinit { scratch.deallocate() }

  /// Closes the batch (`NFNL_MSG_BATCH_END`); returns the bytes to send.
  func finish() -> [UInt8] {
    append(nftnl_batch_end(scratch.assumingMemoryBound(to: CChar.self), nextSequence()))
    return bytes
  }

  /// A fresh `NFTA_SET_ID` for a set created in this batch.
  func newSetID() -> UInt32 {
    defer { nextSetID += 1 }
    return nextSetID
  }

  /// Adds one message: `type` is an `NFT_MSG_*`, `build` fills the payload (`nftnl_*_build_payload`).
  func add(
    _ type: nf_tables_msg_types, family: UInt16, flags: Int32, origin: Origin,
    _ build: (UnsafeMutablePointer<nlmsghdr>) -> Void
  ) {
    let seq = nextSequence()
    let nlh = nftnl_nlmsg_build_hdr(
      scratch.assumingMemoryBound(to: CChar.self), UInt16(type.rawValue), family, UInt16(flags | NLM_F_ACK), seq)!
    build(nlh)
    origins[seq] = origin
    messageCount += 1
    append(nlh)
  }

  private func nextSequence() -> UInt32 {
    sequence &+= 1
    return sequence
  }

  private func append(_ nlh: UnsafeMutablePointer<nlmsghdr>?) {
    guard let nlh else { return }
    let length = Int(nlh.pointee.nlmsg_len)
    let aligned = (length + 3) & ~3
    bytes.append(contentsOf: UnsafeRawBufferPointer(start: UnsafeRawPointer(nlh), count: length))
    bytes.append(contentsOf: repeatElement(0, count: aligned - length))
  }
}
