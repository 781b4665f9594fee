import Foundation
import NetfilterModel
import PolicyLanguage

#if canImport(Glibc)
  import Glibc
#endif

/// Paths of the repository, found from this file.
enum Fixtures {
  static let root: String = {
    var parts = #filePath.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
    parts.removeLast(3)  // Tests/PolicyLanguageTests/Fixtures.swift
    return parts.joined(separator: "/")
  }()

  /// Every `*.policy` in a directory, sorted.
  static func policies(in directory: String) -> [String] {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
    return names.filter { $0.hasSuffix(".policy") }.sorted().map { directory + "/" + $0 }
  }

  /// The example policies and the golden cases.
  static var allPolicies: [String] {
    policies(in: root + "/Rules") + policies(in: root + "/Tests/BackendTests/Golden")
  }

  static func resolve(_ path: String) -> (Policy?, [Diagnostic]) {
    var resolver = Resolver(source: FileSource())
    return resolver.resolve(path: path)
  }

  /// Resolves in-memory text as `test.policy`.
  static func resolve(text: String, extra: [String: String] = [:]) -> (Policy?, [Diagnostic]) {
    var files = extra
    files["test.policy"] = text
    var resolver = Resolver(source: MemorySource(files))
    return resolver.resolve(path: "test.policy")
  }
}
