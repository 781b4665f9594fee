import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// Per-namespace sysctls under `/proc/sys/net`, read and written from inside the namespace.
/// Equivalent to `ip netns exec NS sysctl -w KEY=VALUE`.
public enum Sysctl {
  static func path(_ key: String) -> String { "/proc/sys/" + key.replacingOccurrences(of: ".", with: "/") }

  public static func read(_ key: String, in namespace: String) throws -> String? {
    try NetworkNamespace.run(in: namespace) {
      guard let text = try? String(contentsOfFile: path(key), encoding: .utf8) else { return nil }
      return text.trimmingCharacters(in: .whitespacesAndNewlines)
    }
  }

  public static func write(_ key: String, _ value: String, in namespace: String) throws {
    let error: Int32? = try NetworkNamespace.run(in: namespace) {
      let fd = open(path(key), O_WRONLY)
      guard fd >= 0 else { return errno }
      defer { close(fd) }
      let bytes = Array((value + "\n").utf8)
      let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
      return n == bytes.count ? nil : errno
    }
    if let error {
      throw NetlinkError(errno: error, operation: "set sysctl", object: "\(key) = \(value) in \(namespace)")
    }
  }
}
