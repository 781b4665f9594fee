import NetfilterModel

/// The right-hand side of an nft expression as written: a word or string, an anonymous set
/// `{ … }`, a named set `@name`, a list `a,b`, flags `a | b`, a range `a - b`, a concatenation
/// `a . b`, `value / mask`, a map element `key : value` or a verdict (in verdict maps).
indirect enum NFTValue {
  case atom(NFTToken)
  case set([NFTValue], NFTToken)
  case named(String, NFTToken)
  case list([NFTValue])
  case or([NFTValue])
  case range(NFTValue, NFTValue)
  case concat([NFTValue])
  case slash(NFTValue, NFTValue)
  case mapping(NFTValue, NFTValue)
  case verdict(Verdict, NFTToken)
  case paren(NFTValue)

  /// The elements of a set, with nested sets (`{ $lan, 10.1.0.0/16 }`) flattened as nft does.
  var setElements: [NFTValue]? {
    guard case .set(let elements, _) = self else { return nil }
    return elements.flatMap { $0.setElements ?? [$0] }
  }

  /// The first token, for locations.
  var firstToken: NFTToken? {
    switch self {
    case .atom(let t), .set(_, let t), .named(_, let t), .verdict(_, let t): return t
    case .list(let vs), .or(let vs), .concat(let vs): return vs.first?.firstToken
    case .range(let a, _), .slash(let a, _), .mapping(let a, _): return a.firstToken
    case .paren(let v): return v.firstToken
    }
  }

  /// The word or string of an atom.
  var atomText: String? {
    if case .atom(let t) = self { return t.text }
    return nil
  }

  /// The values of a comma or `|` list, or the value itself.
  var flagItems: [NFTValue] {
    switch self {
    case .list(let vs), .or(let vs): return vs.flatMap(\.flagItems)
    case .paren(let v): return v.flagItems
    default: return [self]
    }
  }
}
