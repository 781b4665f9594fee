import Foundation
import IPTablesBackend
import NFTablesBackend
import NetfilterModel
import PolicyLanguage
import Testing

#if canImport(Glibc)
  import Glibc
#endif

/// Golden files: `Golden/<case>.policy` compiles to `<case>.nft` and `<case>.iptables` (or to the
/// errors the backend reports, one per line). Re-record with `UPDATE_GOLDEN=1 swift test`.
@Suite struct GoldenTests {
  static let directory: String = {
    var parts = #filePath.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
    parts.removeLast()
    return parts.joined(separator: "/") + "/Golden"
  }()

  static var cases: [String] {
    policies(in: directory).map { String($0.split(separator: "/").last!.dropLast(".policy".count)) }
  }

  @Test func thereAreGoldenCases() {
    #expect(GoldenTests.cases.count >= 6)
  }

  @Test(arguments: GoldenTests.cases)
  func nft(_ name: String) throws {
    let policy = try load(name)
    var text = ""
    for fw in policy.firewalls {
      do {
        text += try NFTScript().compile(fw.ruleset, source: "\(name).policy (firewall \(fw.namespace))")
      } catch let list as DiagnosticList {
        text += list.diagnostics.map { "# error: \($0)" }.joined(separator: "\n") + "\n"
      }
    }
    try compare(text, golden: "\(name).nft")
  }

  @Test(arguments: GoldenTests.cases)
  func iptables(_ name: String) throws {
    let policy = try load(name)
    var text = ""
    for fw in policy.firewalls {
      do {
        text += try IPTablesCompiler().compile(fw.ruleset).combined
      } catch let list as DiagnosticList {
        text += list.diagnostics.map { "# error: \($0)" }.joined(separator: "\n") + "\n"
      }
    }
    try compare(text, golden: "\(name).iptables")
  }

  func load(_ name: String) throws -> Policy {
    var resolver = Resolver(source: FileSource())
    // Relative names keep absolute paths out of the golden files.
    let (policy, diagnostics) = resolver.resolve(
      path: "\(name).policy", text: try #require(FileSource().read("\(GoldenTests.directory)/\(name).policy")))
    #expect(diagnostics.isEmpty, "\(diagnostics.map(\.description))")
    return try #require(policy)
  }

  func compare(_ actual: String, golden: String) throws {
    let path = "\(GoldenTests.directory)/\(golden)"
    if getenv("UPDATE_GOLDEN") != nil {
      let f = try #require(fopen(path, "w"))
      fputs(actual, f)
      fclose(f)
      return
    }
    let expected = try #require(FileSource().read(path), "missing golden file \(golden); record with UPDATE_GOLDEN=1")
    #expect(actual == expected, "\(golden) differs; re-record with UPDATE_GOLDEN=1 if the change is intended")
  }
}

/// Every example in `Rules/` must compile to both backends (the kernel round trip skips what a
/// backend refuses, so this is where a refusal of an example fails).
@Suite struct ExamplesCompileTests {
  static let rules: [String] = {
    var parts = #filePath.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
    parts.removeLast(3)
    return policies(in: parts.joined(separator: "/") + "/Rules")
  }()

  @Test func thereAreExamples() { #expect(Self.rules.count >= 4) }

  @Test(arguments: Self.rules)
  func compilesToBothBackends(_ path: String) throws {
    var resolver = Resolver(source: FileSource())
    let (policy, diagnostics) = resolver.resolve(path: path)
    #expect(diagnostics.isEmpty)
    for fw in try #require(policy).firewalls {
      #expect(throws: Never.self) { try NFTScript().compile(fw.ruleset) }
      #expect(throws: Never.self) { try IPTablesCompiler().compile(fw.ruleset) }
    }
  }
}

/// The `*.policy` files of a directory, as sorted paths.
func policies(in directory: String) -> [String] {
  let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
  return names.filter { $0.hasSuffix(".policy") }.sorted().map { directory + "/" + $0 }
}
