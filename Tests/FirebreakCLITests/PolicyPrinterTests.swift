import Foundation
import NFTablesBackend
import NetfilterModel
import PolicyLanguage
import Testing

@testable import FirebreakCLI

/// A model printed as a policy reads back as the same firewall: compiled, both give the same nft
/// script (locations and origin comments aside).
@Suite struct PolicyPrinterTests {
  static let policies: [String] = {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent()
    let dirs = ["Rules", "Tests/BackendTests/Golden"].map { root.appendingPathComponent($0).path }
    return dirs.flatMap { dir in
      ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter { $0.hasSuffix(".policy") }.sorted()
        .map { dir + "/" + $0 }
    }
  }()

  @Test(arguments: policies)
  func printedPolicyReadsBackTheSame(_ path: String) throws {
    var resolver = Resolver(source: FileSource())
    let (loaded, _) = resolver.resolve(path: path)
    let policy = try #require(loaded)
    for firewall in policy.firewalls where NFTScript().unsupported(firewall.ruleset).isEmpty {
      let (text, diagnostics) = PolicyPrinter.print(firewall.ruleset, header: ["printed from \(path)"])
      let printed = try #require(text, "\(path): \(diagnostics.map(\.description))")
      var again = Resolver(source: MemorySource(["p.policy": printed]))
      let (reread, errors) = again.resolve(path: "p.policy")
      let back = try #require(reread?.firewalls.first, "\(path): \(errors.map(\.description))\n\(printed)")
      func strip(_ r: Ruleset) -> Ruleset {
        var r = r
        for t in r.tables.indices {
          for c in r.tables[t].chains.indices {
            for i in r.tables[t].chains[c].rules.indices { r.tables[t].chains[c].rules[i].comment = nil }
          }
        }
        return r
      }
      #expect(
        NFTScript().listing(strip(back.ruleset), comments: .userOnly)
          == NFTScript().listing(strip(firewall.ruleset), comments: .userOnly), "\(path)")
    }
  }
}
