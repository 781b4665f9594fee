import Foundation
import NetfilterModel

/// Reads `nft -j list ruleset` output (libnftables JSON schema 1) into the model.
///
/// Equivalent to what `nft -j -f FILE` reads: `table` objects of the ip, ip6 and inet families
/// become tables (other families are skipped with a warning), `chain` objects base or regular
/// chains, `set` objects named sets, and `rule` objects rules in listing order. Expressions and
/// statements the model cannot express are kept as an opaque match (or an opaque non-terminal
/// target) whose text is the expression's compact JSON, with a warning naming it: the rule is
/// never dropped or widened. Counter values are ignored.
///
/// JSON carries no line numbers: diagnostics point at line 1 of the file and name the rule as
/// `family table/chain/handle` in their message.
public struct NFTJSONImporter: Sendable {
  /// An importer.
  public init() {}

  /// Imports `text`; locations name `file`.
  public func importRuleset(_ text: String, file: String) -> ImportedRuleset {
    let start = SourceLocation(file: file, line: 1, column: 1)
    let root: Any
    do {
      root = try JSONSerialization.jsonObject(with: Data(text.utf8), options: [])
    } catch {
      let location = Self.errorLocation(error, in: text, file: file) ?? start
      return ImportedRuleset(
        ruleset: Ruleset(),
        diagnostics: [.error("not valid JSON: \(Self.reason(error))", at: location)])
    }
    guard let object = root as? [String: Any], let items = object["nftables"] as? [Any] else {
      return ImportedRuleset(
        ruleset: Ruleset(),
        diagnostics: [.error("not an nft JSON ruleset: expected an object with an \"nftables\" array", at: start)])
    }
    var reader = NFTJSONReader(location: start)
    reader.read(items)
    return ImportedRuleset(ruleset: Ruleset(tables: reader.tables), diagnostics: reader.diagnostics)
  }

  /// The parser's message without Foundation's boilerplate.
  static func reason(_ error: Error) -> String {
    let ns = error as NSError
    if let debug = ns.userInfo["NSDebugDescription"] as? String { return debug }
    return ns.localizedDescription
  }

  /// The line and column of the byte the parser stopped at, when Foundation says which.
  static func errorLocation(_ error: Error, in text: String, file: String) -> SourceLocation? {
    let info = (error as NSError).userInfo
    guard let index = (info["NSJSONSerializationErrorIndex"] as? Int) ?? Self.indexInMessage(reason(error), text) else {
      return nil
    }
    var line = 1
    var column = 1
    for byte in text.utf8.prefix(index) {
      if byte == UInt8(ascii: "\n") {
        line += 1
        column = 1
      } else {
        column += 1
      }
    }
    return SourceLocation(file: file, line: line, column: column)
  }

  /// The 0-based byte index in `… around character 13.`, or the end for `Unexpected end of file`.
  static func indexInMessage(_ message: String, _ text: String) -> Int? {
    if message.contains("end of file") { return text.utf8.count }
    guard let range = message.range(of: "character ") else { return nil }
    return Int(message[range.upperBound...].prefix { $0.isNumber })
  }
}
