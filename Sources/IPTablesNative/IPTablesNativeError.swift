import CIPTC
import Foundation

/// Why a native iptables operation failed. Kernel failures name the object and the errno.
public enum IPTablesNativeError: Error, Equatable, Sendable, CustomStringConvertible {
  /// A line of compiled text outside the subset this backend reads, or a malformed option.
  case unsupported(line: Int, text: String, reason: String)
  /// A rule that cannot be built (a jump to a chain the table does not declare, a rule in an
  /// undeclared chain, an oversized option); nothing was sent to the kernel.
  case invalidRule(table: String, chain: String, line: Int, reason: String)
  /// libiptc or the kernel refused an operation: `iptc_init`, `iptc_append_entry`, `iptc_commit`, ….
  case kernel(operation: String, object: String, errno: Int32, message: String)
  /// The xtables lock (`/run/xtables.lock`) stayed held by another process.
  case lockTimeout(path: String, seconds: Double)
  /// The lock file could not be opened or locked.
  case lockFailed(path: String, errno: Int32)
  /// A kernel failure after which restoring the earlier state failed too.
  indirect case rollbackFailed(original: IPTablesNativeError, rollback: IPTablesNativeError)

  public var description: String {
    switch self {
    case .unsupported(let line, let text, let reason):
      return "line \(line): \(reason): \(text)"
    case .invalidRule(let table, let chain, let line, let reason):
      return "cannot build rule at line \(line) in \(table) \(chain): \(reason)"
    case .kernel(let operation, let object, let errno, let message):
      return "cannot \(operation) \(object): \(message) (\(IPTablesNativeError.symbol(errno)))"
    case .lockTimeout(let path, let seconds):
      return "another process holds \(path); gave up after \(seconds) s"
    case .lockFailed(let path, let errno):
      return "cannot lock \(path): \(String(cString: strerror(errno))) (\(IPTablesNativeError.symbol(errno)))"
    case .rollbackFailed(let original, let rollback):
      return "\(original); restoring the earlier tables failed too: \(rollback)"
    }
  }

  /// The errno's symbolic name.
  static func symbol(_ e: Int32) -> String {
    let names: [Int32: String] = [
      EEXIST: "EEXIST", ENOENT: "ENOENT", EPERM: "EPERM", EINVAL: "EINVAL", ENOMEM: "ENOMEM", EBUSY: "EBUSY",
      ELOOP: "ELOOP", ENOPROTOOPT: "ENOPROTOOPT", EAGAIN: "EAGAIN", EACCES: "EACCES", ENOTSUP: "ENOTSUP",
      EMLINK: "EMLINK", E2BIG: "E2BIG", ERANGE: "ERANGE", ENOTEMPTY: "ENOTEMPTY",
    ]
    return names[e] ?? "errno \(e)"
  }
}
