import CNftnl

#if canImport(Glibc)
  import Glibc
#endif

/// A kernel operation that failed, naming the object: "cannot add veth reth0 in RED: File exists (EEXIST)".
public struct NetlinkError: Error, Equatable, CustomStringConvertible {
  public var errno: Int32
  /// What was attempted: `add veth`, `create namespace`, …
  public var operation: String
  /// The object: `reth0 in RED`.
  public var object: String

  public init(errno: Int32, operation: String, object: String) {
    self.errno = errno
    self.operation = operation
    self.object = object
  }

  public var description: String {
    "cannot \(operation) \(object): \(String(cString: strerror(errno))) (\(NetlinkError.symbol(errno)))"
  }

  static func symbol(_ e: Int32) -> String {
    let names: [Int32: String] = [
      EEXIST: "EEXIST", ENOENT: "ENOENT", EPERM: "EPERM", EINVAL: "EINVAL", ENODEV: "ENODEV", EBUSY: "EBUSY",
      EOPNOTSUPP: "EOPNOTSUPP", ENETUNREACH: "ENETUNREACH", EADDRNOTAVAIL: "EADDRNOTAVAIL", EACCES: "EACCES",
      ENOTDIR: "ENOTDIR", EAFNOSUPPORT: "EAFNOSUPPORT", ERANGE: "ERANGE", ESRCH: "ESRCH",
    ]
    return names[e] ?? "errno \(e)"
  }
}
