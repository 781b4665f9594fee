import NetfilterModel
import PolicyLanguage

/// A policy source that remembers every file it read, so a generation can keep the exact text of
/// a policy and its includes and load it again later, whatever happened to the files since.
public final class RecordingSource: PolicySource, @unchecked Sendable {
  let underlying: any PolicySource
  public private(set) var files: [String: String] = [:]

  public init(_ underlying: any PolicySource) { self.underlying = underlying }

  public func read(_ path: String) -> String? {
    let text = underlying.read(path)
    if let text { files[path] = text }
    return text
  }
}

extension Generation {
  /// The firewall this generation applied, loaded from the files it kept; nil for the baseline
  /// (or a generation whose policy does not load any more, which cannot happen for files kept
  /// verbatim, but a later Firebreak might refuse what an earlier one accepted).
  public func firewall() -> Firewall? {
    guard let path = policyPath, let files = policyFiles, let name = firewallName else { return nil }
    var resolver = Resolver(source: MemorySource(files))
    let (policy, diagnostics) = resolver.resolve(path: path)
    guard let policy, !diagnostics.contains(where: { $0.severity == .error }) else { return nil }
    return policy.firewall(name)
  }
}
