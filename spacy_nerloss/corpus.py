"""Read column-format NER files (CoNLL-2003, WNUT-17) into spaCy Docs.

A file contains one token per line: the token in the first column and its IOB tag
in the last, separated by tabs or spaces. Columns in between (CoNLL-2003's POS
and chunk tags) are ignored. Blank lines separate sentences, or whole texts in
WNUT-17, and `-DOCSTART-` lines separate documents.
"""
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import List, Optional, Tuple, Union

from spacy.tokens import Doc
from spacy.vocab import Vocab

logger = logging.getLogger("spacy_nerloss")

DOCSTART = "-DOCSTART-"
BOM = "\ufeff"
# spaCy's own converter groups 10 sentences per doc, and so does this reader.
DEFAULT_N_SENTS = 10
# Separates the columns of a file whose first token line contains no tab.
SPACE_SEPARATOR = re.compile(r"[ \t]+")


@dataclass
class CorpusStats:
    """Counts from reading one column file."""

    path: str
    # Blank-line separated blocks: sentences in CoNLL-2003, texts in WNUT-17.
    sentences: int = 0
    # Documents started by a -DOCSTART- line, 0 in files without them.
    documents: int = 0
    tokens: int = 0
    docs: int = 0
    # I- tags that open an entity after O or at a block start, as IOB1 does.
    converted: int = 0
    # I- tags whose label differs from the open entity's, read as a new entity.
    repaired: int = 0
    first_repaired_line: Optional[int] = None


@dataclass
class Block:
    """The tokens and IOB2 tags of one sentence or text."""

    document: int
    words: List[str] = field(default_factory=list)
    tags: List[str] = field(default_factory=list)
    open_label: Optional[str] = None


def read_conll(
    path: Union[str, Path],
    vocab: Vocab,
    *,
    n_sents: int = DEFAULT_N_SENTS,
    warn: bool = True,
) -> Tuple[List[Doc], CorpusStats]:
    """Read a column-format NER file into Docs with entities and sentence starts.

    IOB1 tags are converted to IOB2. An I- tag whose label differs from the open
    entity (I-ORG right after B-PER) starts a new entity, and is counted in
    `stats.repaired`. U+FEFF (byte order mark) characters are removed wherever
    they occur, and CRLF line endings are accepted.

    path (Union[str, Path]): The file to read, UTF-8 encoded.
    vocab (Vocab): The vocab of the Docs.
    n_sents (int): In files with -DOCSTART- lines, the number of consecutive
        sentences of one document to put in each Doc. In files without them,
        each text becomes one Doc and `n_sents` is not used.
    warn (bool): Log a warning through the "spacy_nerloss" logger when tags
        were repaired.
    RETURNS (Tuple[List[Doc], CorpusStats]): The Docs and the counts.
    """
    if not isinstance(n_sents, int) or n_sents < 1:
        raise ValueError(
            f"Invalid value for 'n_sents': {n_sents!r}. Expected an integer >= 1."
        )
    blocks, stats = read_blocks(path)
    if stats.documents:
        groups = group_blocks(blocks, n_sents)
    else:
        groups = [[block] for block in blocks]
    docs = [make_doc(vocab, group) for group in groups]
    stats.docs = len(docs)

    if warn and stats.repaired:
        logger.warning(
            "%s: %d I- tags had a different label than the entity before them "
            "and were read as the start of a new entity (first at line %d).",
            stats.path,
            stats.repaired,
            stats.first_repaired_line,
        )
    return docs, stats


def read_blocks(path: Union[str, Path]) -> Tuple[List[Block], CorpusStats]:
    """Parse a column file into blocks of words and IOB2 tags.

    Raises ValueError, naming `path:line`, for a line whose column count differs
    from the file's first token line, an invalid tag or an empty token.
    """
    stats = CorpusStats(path=str(path))
    blocks: List[Block] = []
    block = Block(document=0)
    n_columns: Optional[int] = None
    separator: Optional[str] = None
    first_lineno = 0
    for lineno, line in enumerate(read_lines(path), start=1):
        if not line.strip():
            block = close_block(blocks, block, stats)
            continue
        if is_docstart(line):
            block = close_block(blocks, block, stats)
            stats.documents += 1
            block.document = stats.documents
            continue

        if separator is None:
            separator = "\t" if "\t" in line else " "
        columns = split_columns(line, separator)
        if n_columns is None:
            n_columns, first_lineno = len(columns), lineno
            if n_columns < 2:
                raise ValueError(
                    f"{path}:{lineno}: expected at least 2 columns (token and tag), "
                    f"found 1 in {line!r}."
                )
        elif len(columns) != n_columns:
            raise ValueError(
                f"{path}:{lineno}: expected {n_columns} columns, as in line "
                f"{first_lineno}, but found {len(columns)} in {line!r}."
            )
        word, tag = columns[0], columns[-1]
        if not word:
            raise ValueError(f"{path}:{lineno}: empty token in {line!r}.")
        block.words.append(word)
        block.tags.append(to_iob2(block, tag, path, lineno, stats))
        stats.tokens += 1
    close_block(blocks, block, stats)
    return blocks, stats


def read_lines(path: Union[str, Path]) -> List[str]:
    """Decode a UTF-8 file into lines without line endings or U+FEFF characters."""
    data = Path(path).read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        lineno = data[: err.start].count(b"\n") + 1
        raise ValueError(f"{path}:{lineno}: invalid UTF-8 ({err.reason}).") from err
    # WNUT-17's dev file has U+FEFF inside a token and alone on its last line.
    text = text.replace(BOM, "")
    return [line[:-1] if line.endswith("\r") else line for line in text.split("\n")]


def is_docstart(line: str) -> bool:
    """Return whether the first column of `line` is -DOCSTART-."""
    return SPACE_SEPARATOR.split(line.strip(" \t"), maxsplit=1)[0] == DOCSTART


def split_columns(line: str, separator: str) -> List[str]:
    """Split a line into columns.

    A tab-separated file keeps spaces inside a token. Any other file splits on
    runs of spaces and tabs.
    """
    if separator == "\t":
        return [column.strip(" ") for column in line.rstrip(" \t").split("\t")]
    return SPACE_SEPARATOR.split(line.strip(" \t"))


def to_iob2(
    block: Block, tag: str, path: Union[str, Path], lineno: int, stats: CorpusStats
) -> str:
    """Return the IOB2 form of `tag` and update the block's open entity.

    block (Block): The block the tag belongs to. Its `open_label` is the label
        of the entity the previous token is part of, or None.
    tag (str): The tag as read: "O", "B-<label>" or "I-<label>".
    path (Union[str, Path]): The file, for the error message.
    lineno (int): The line number of the tag, starting at 1.
    stats (CorpusStats): The counts of converted and repaired tags to update.
    RETURNS (str): "O", or "B-"/"I-" and the label.
    """
    prefix, _, label = tag.partition("-")
    if tag == "O":
        block.open_label = None
        return tag
    if prefix not in ("B", "I") or not label:
        raise ValueError(
            f"{path}:{lineno}: invalid tag {tag!r}. Expected 'O', or 'B-' or 'I-' "
            "followed by a label (IOB1 or IOB2). Other schemes, such as BILUO "
            "or IOBES with 'S-', 'E-', 'L-' or 'U-' tags, are not supported."
        )
    if prefix == "I" and block.open_label == label:
        return tag
    if prefix == "I":
        if block.open_label is None:
            stats.converted += 1
        else:
            stats.repaired += 1
            if stats.first_repaired_line is None:
                stats.first_repaired_line = lineno
    block.open_label = label
    return f"B-{label}"


def close_block(blocks: List[Block], block: Block, stats: CorpusStats) -> Block:
    """Store `block` if it has tokens, and return an empty block that continues
    the same document.
    """
    if block.words:
        blocks.append(block)
        stats.sentences += 1
        return Block(document=block.document)
    block.open_label = None
    return block


def group_blocks(blocks: List[Block], n_sents: int) -> List[List[Block]]:
    """Group consecutive blocks of the same document, at most `n_sents` each."""
    groups: List[List[Block]] = []
    for block in blocks:
        last = groups[-1] if groups else None
        if last and last[-1].document == block.document and len(last) < n_sents:
            last.append(block)
        else:
            groups.append([block])
    return groups


def make_doc(vocab: Vocab, blocks: List[Block]) -> Doc:
    """Build one Doc from blocks, each block starting a sentence.

    No `spaces` are given, so the Doc has unknown spaces and spaCy's Corpus
    reader keeps these tokens instead of re-tokenizing the text.
    """
    words: List[str] = []
    tags: List[str] = []
    sent_starts: List[bool] = []
    for block in blocks:
        words.extend(block.words)
        tags.extend(block.tags)
        sent_starts.extend([True] + [False] * (len(block.words) - 1))
    return Doc(vocab, words=words, sent_starts=sent_starts, ents=tags)
