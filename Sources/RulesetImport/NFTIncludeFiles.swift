import Foundation

/// How `include` reads files: from the disk, or from memory (tests).
public struct NFTIncludeFiles: Sendable {
  /// The text of the file at a path, nil when it cannot be read.
  public var read: @Sendable (String) -> String?
  /// The names in a directory, nil when it is not one.
  public var list: @Sendable (String) -> [String]?

  /// Files read and directories listed by these functions.
  public init(read: @escaping @Sendable (String) -> String?, list: @escaping @Sendable (String) -> [String]?) {
    self.read = read
    self.list = list
  }

  /// The file system.
  public static let disk = NFTIncludeFiles(
    read: { path in
      var isDirectory: ObjCBool = false
      guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else {
        return nil
      }
      return try? String(contentsOfFile: path, encoding: .utf8)
    },
    list: { try? FileManager.default.contentsOfDirectory(atPath: $0) })

  /// Files held in memory by path; directories are the paths' prefixes.
  public static func memory(_ files: [String: String]) -> NFTIncludeFiles {
    NFTIncludeFiles(
      read: { files[$0] },
      list: { directory in
        let prefix = directory.hasSuffix("/") ? directory : directory + "/"
        let names = files.keys.filter { $0.hasPrefix(prefix) }.map { path -> String in
          let rest = path.dropFirst(prefix.count)
          return String(rest.prefix { $0 != "/" })
        }
        return names.isEmpty ? nil : Array(Set(names))
      })
  }
}
