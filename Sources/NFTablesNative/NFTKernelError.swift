import NetfilterModel

#if canImport(Glibc)
  import Glibc
#endif

/// The kernel refused an nftables operation, or the netlink socket failed. It names the object
/// and, when it came from a policy, where it was written:
/// "cannot create chain inet filter in (lab.policy:12:3): No such file or directory (ENOENT)".
public struct NFTKernelError: Error, Equatable, Sendable, CustomStringConvertible {
  public var errno: Int32
  /// What was attempted: `create chain`, `add rule`, `delete table`, `send batch`, …
  public var operation: String
  /// The object: `inet filter input`, `ip filter INPUT rule 3`.
  public var object: String
  /// Where the object was written in the policy, when it came from one.
  public var location: SourceLocation?

  public init(errno: Int32, operation: String, object: String, location: SourceLocation? = nil) {
    self.errno = errno
    self.operation = operation
    self.object = object
    self.location = location
  }

  /// The errno as text with its symbol: `No such file or directory (ENOENT)`.
  public var errnoText: String { "\(String(cString: strerror(errno))) (\(NFTKernelError.symbol(errno)))" }

  public var description: String {
    var place = ""
    if let location, location.line > 0 { place = " (\(location))" }
    return "cannot \(operation) \(object)\(place): \(errnoText)"
  }

  public static func == (lhs: NFTKernelError, rhs: NFTKernelError) -> Bool {
    (lhs.errno, lhs.operation, lhs.object) == (rhs.errno, rhs.operation, rhs.object)
      && lhs.location?.description == rhs.location?.description
  }

  static func symbol(_ e: Int32) -> String {
    let names: [Int32: String] = [
      EEXIST: "EEXIST", ENOENT: "ENOENT", EPERM: "EPERM", EINVAL: "EINVAL", ENODEV: "ENODEV", EBUSY: "EBUSY",
      EOPNOTSUPP: "EOPNOTSUPP", ELOOP: "ELOOP", ENOBUFS: "ENOBUFS", EMSGSIZE: "EMSGSIZE", ENOMEM: "ENOMEM",
      ERANGE: "ERANGE", EAFNOSUPPORT: "EAFNOSUPPORT", ENOSPC: "ENOSPC", EAGAIN: "EAGAIN", EACCES: "EACCES",
      ENFILE: "ENFILE", E2BIG: "E2BIG", EPROTONOSUPPORT: "EPROTONOSUPPORT",
    ]
    return names[e] ?? "errno \(e)"
  }
}
