// Token ids and what they stand for: raw bytes (any file) or the reference's word dictionary
// (a folder of space-separated tokens). Saved with every checkpoint so ids keep their meaning.

export interface VocabularyJSON {
  kind: 'bytes' | 'tokens';
  /** kind "tokens": the token of each id. */
  tokens?: string[];
}

export class Vocabulary {
  private readonly index: Map<string, number> | null;

  private constructor(readonly kind: 'bytes' | 'tokens', readonly tokens: readonly string[] | null) {
    this.index = tokens ? new Map(tokens.map((t, i) => [t, i])) : null;
  }

  /** One id per byte value: any file can be read, whatever it holds. */
  static bytes(): Vocabulary {
    return new Vocabulary('bytes', null);
  }

  static fromTokens(tokens: readonly string[]): Vocabulary {
    if (tokens.length === 0) throw new Error('a vocabulary needs at least one token');
    if (new Set(tokens).size !== tokens.length) throw new Error('a vocabulary cannot list a token twice');
    return new Vocabulary('tokens', [...tokens]);
  }

  static fromJSON(json: VocabularyJSON): Vocabulary {
    if (json?.kind === 'bytes') return Vocabulary.bytes();
    if (json?.kind === 'tokens' && Array.isArray(json.tokens) && json.tokens.every((t) => typeof t === 'string')) return Vocabulary.fromTokens(json.tokens);
    throw new Error('vocabulary: expected {"kind": "bytes"} or {"kind": "tokens", "tokens": [...]}');
  }

  toJSON(): VocabularyJSON {
    return this.kind === 'bytes' ? { kind: 'bytes' } : { kind: 'tokens', tokens: [...this.tokens!] };
  }

  get size(): number {
    return this.tokens?.length ?? 256;
  }

  /** The id of a token, or undefined (kind "tokens"). */
  idOf(token: string): number | undefined {
    return this.index?.get(token);
  }

  /**
   * Ids for text: its UTF-8 bytes, or (kind "tokens") its whitespace-separated tokens, each of
   * which must be in the vocabulary. `where` names the text in errors.
   */
  encode(text: string, where = 'text'): Int32Array {
    if (this.kind === 'bytes') return Int32Array.from(new TextEncoder().encode(text));
    const words = text.split(/\s+/).filter((w) => w !== '');
    return Int32Array.from(words, (w, i) => {
      const id = this.index!.get(w);
      if (id === undefined) throw new Error(`${where}: token ${i + 1} "${w.length > 40 ? w.slice(0, 40) + '...' : w}" is not in the vocabulary (${this.size} tokens)`);
      return id;
    });
  }

  /** Text for ids: bytes decoded as UTF-8 (invalid sequences replaced), tokens joined by spaces. */
  decode(ids: ArrayLike<number>): string {
    if (this.kind === 'bytes') return new TextDecoder().decode(Uint8Array.from(ids as ArrayLike<number>));
    return Array.from(ids as ArrayLike<number>, (i) => this.tokens![i] ?? '<?>').join(' ');
  }

  /** Whether two vocabularies give every id the same meaning. */
  equals(other: Vocabulary): boolean {
    return this.kind === other.kind && this.size === other.size && (this.kind === 'bytes' || this.tokens!.every((t, i) => t === other.tokens![i]));
  }
}
