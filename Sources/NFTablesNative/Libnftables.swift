import CNftables
import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// nft's own library, libnftables: commands in nft's syntax, parsed, evaluated and sent to the
/// kernel (or listed from it) exactly as the `nft` tool does, in the network namespace of the
/// calling thread. It is what Firebreak uses where only nft's parser or printer will do: listing a
/// ruleset as nft text, and applying rules whose nft expressions the model keeps as text.
///
/// libnftables keeps process-wide state: a one-time initialisation in `nft_ctx_new`, and an
/// interface cache it fills from the calling thread's namespace while a command runs and empties
/// when it ends. So every call here holds one process-wide lock, and uses a context of its own,
/// created (its netlink socket opened) on the calling thread and freed before the call returns.
/// Call it inside `NetworkNamespace.run(in:)` to act in a named namespace.
public enum Libnftables {
  /// Serialises every use of libnftables in this process (see above).
  private static let lock = NSLock()

  /// The ruleset as nft lists it: every table, with its chains, sets, maps, objects and rules.
  ///
  /// Equivalent to `nft list ruleset` (same library, same text, byte for byte).
  public static func listRuleset() throws -> String {
    try withContext(operation: "list ruleset", dryRun: false) { nft_run_cmd_from_buffer($0, "list ruleset") }
  }

  /// Runs an nft script (what `nft -f` reads) as one kernel transaction: all of it, or, when
  /// nft's evaluator or the kernel refuses any part, none of it. With `dryRun` the kernel checks
  /// the whole transaction and discards it, so nothing changes. Errors name the script as `name`,
  /// with nft's line and column and the offending line.
  ///
  /// Equivalent to `nft -f FILE` (with `dryRun`: `nft -c -f FILE`).
  public static func apply(script: String, name: String = "nft script", dryRun: Bool = false) throws {
    let operation = dryRun ? "check \(name)" : "apply \(name)"
    // nft reads the script as a file, not a buffer: for a buffer its errors would show the
    // buffer's first line instead of the offending one, and no line number.
    let fd = fb_memfd_create("firebreak-nft-script")
    guard fd >= 0 else {
      throw LibnftablesError(
        operation: operation, message: "cannot hold the script: \(String(cString: strerror(errno)))")
    }
    defer { close(fd) }
    var bytes = Array(script.utf8)[...]
    while !bytes.isEmpty {
      let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
      if written < 0 && errno == EINTR { continue }
      guard written > 0 else {
        throw LibnftablesError(
          operation: operation, message: "cannot hold the script: \(String(cString: strerror(errno)))")
      }
      bytes = bytes.dropFirst(written)
    }
    let path = "/proc/self/fd/\(fd)"
    do {
      _ = try withContext(operation: operation, dryRun: dryRun) { nft_run_cmd_from_filename($0, path) }
    } catch var error as LibnftablesError {
      error.message = error.message.replacingOccurrences(of: path + ":", with: name + ":")
      throw error
    }
  }

  /// `nft_ctx_new`, `nft_ctx_buffer_output`, `nft_ctx_buffer_error`, `nft_ctx_set_dry_run`, then
  /// `run` (an `nft_run_cmd_from_*`), `nft_ctx_get_output_buffer`, `nft_ctx_get_error_buffer` and
  /// `nft_ctx_free`, under the lock. Returns what nft printed; throws what it printed as errors.
  static func withContext(operation: String, dryRun: Bool, _ run: (OpaquePointer) -> Int32) throws -> String {
    lock.lock()
    defer { lock.unlock() }
    // libnftables ends the process when it cannot open its netlink socket: open one of our own
    // first, so that failure is an error here instead.
    _ = try NFTSocket()
    guard let context = nft_ctx_new(UInt32(NFT_CTX_DEFAULT)) else {
      throw LibnftablesError(operation: operation, message: "cannot create an nft context")
    }
    defer { nft_ctx_free(context) }
    guard nft_ctx_buffer_output(context) == 0, nft_ctx_buffer_error(context) == 0 else {
      throw LibnftablesError(operation: operation, message: "cannot buffer nft's output")
    }
    nft_ctx_set_dry_run(context, dryRun)
    let status = run(context)
    let failure = errno
    let output = nft_ctx_get_output_buffer(context).map { String(cString: $0) } ?? ""
    let errors = nft_ctx_get_error_buffer(context).map { String(cString: $0) } ?? ""
    guard status == 0 else {
      let message = errors.trimmingCharacters(in: .whitespacesAndNewlines)
      throw LibnftablesError(
        operation: operation,
        message: message.isEmpty ? "failed: \(String(cString: strerror(failure))) (nft gave no message)" : message)
    }
    return output
  }
}
