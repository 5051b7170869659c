import logging
from collections import Counter
from pathlib import Path

import pytest
import spacy

from spacy_nerloss.corpus import read_conll

DATA_DIR = Path(__file__).parents[2] / "shared" / "data"
needs_data = pytest.mark.skipif(
    not DATA_DIR.exists(),
    reason=f"Real NER data not found at {DATA_DIR}; the CoNLL-2003 files cannot be "
    "redistributed, so only machines that have them run these tests.",
)

CONLL = """\
-DOCSTART- -X- -X- O

EU NNP B-NP B-ORG
rejects VBZ B-VP O
German JJ B-NP B-MISC

Peter NNP B-NP B-PER
Blackburn NNP I-NP I-PER

-DOCSTART- -X- -X- O

BRUSSELS NNP B-NP B-LOC
"""

# Each case: file content, then the expected (words, entities) of every doc.
# Entities are (text, label).
QUIRKS = [
    pytest.param(
        "Empire\tB-location\nState\tI-location\n.\tO\n\nFrom\tO\nAHFA\tB-group\n",
        [
            (["Empire", "State", "."], [("Empire State", "location")]),
            (["From", "AHFA"], [("AHFA", "group")]),
        ],
        id="tab-separated",
    ),
    pytest.param(
        "a\tO\nb\tB-person\n\t\nc\tB-group\n \n\nd\tO\n",
        [(["a", "b"], [("b", "person")]), (["c"], [("c", "group")]), (["d"], [])],
        id="whitespace-only-separators",
    ),
    pytest.param(
        "\ufeffParis\tB-location\nis\tO\n",
        [(["Paris", "is"], [("Paris", "location")])],
        id="bom-at-start",
    ),
    pytest.param(
        "Dubbz\ufeff\tB-person\nrocks\tO\n",
        [(["Dubbz", "rocks"], [("Dubbz", "person")])],
        id="bom-inside-token",
    ),
    pytest.param(
        "a\tO\n\ufeff\nb\tO\n\ufeff\n",
        [(["a"], []), (["b"], [])],
        id="bom-only-line-separates",
    ),
    pytest.param(
        "New\tB-location\r\nYork\tI-location\r\n\r\nhi\tO\r\n",
        [(["New", "York"], [("New York", "location")]), (["hi"], [])],
        id="crlf",
    ),
    pytest.param(
        "watched\u200bwas\tO\nit\tO\n",
        [(["watched\u200bwas", "it"], [])],
        id="zero-width-space-kept",
    ),
    pytest.param(
        "a  b   c  O\nBerlin X Y\tB-LOC\n",
        [(["a", "Berlin"], [("Berlin", "LOC")])],
        id="space-runs-and-tab-in-space-file",
    ),
    pytest.param(
        "New York\tB-LOC\nis\tO\n",
        [(["New York", "is"], [("New York", "LOC")])],
        id="space-inside-token-of-tab-file",
    ),
    pytest.param(
        "I\tO\nlike\tO\nNew\tI-LOC\nYork\tI-LOC\n",
        [(["I", "like", "New", "York"], [("New York", "LOC")])],
        id="iob1-converted",
    ),
    pytest.param(
        "Ann\tB-PER\nIBM\tI-ORG\nInc\tI-ORG\n",
        [(["Ann", "IBM", "Inc"], [("Ann", "PER"), ("IBM Inc", "ORG")])],
        id="ill-formed-i-repaired",
    ),
    pytest.param(
        "Ann\tB-PER\n\nBob\tI-PER\n",
        [(["Ann"], [("Ann", "PER")]), (["Bob"], [("Bob", "PER")])],
        id="entity-does-not-cross-blank-line",
    ),
]


def write(tmp_path: Path, text: str, name: str = "data.conll") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8"))
    return path


def iob_tag(token):
    return f"{token.ent_iob_}-{token.ent_type_}" if token.ent_type_ else "O"


def ents_of(doc):
    return [(ent.text, ent.label_) for ent in doc.ents]


@pytest.fixture
def vocab():
    return spacy.blank("en").vocab


@pytest.mark.parametrize("text,expected", QUIRKS)
def test_read_conll_quirks(tmp_path, vocab, text, expected):
    docs, stats = read_conll(write(tmp_path, text), vocab)
    assert [[t.text for t in doc] for doc in docs] == [words for words, _ in expected]
    assert [ents_of(doc) for doc in docs] == [ents for _, ents in expected]
    assert stats.docs == len(expected)
    assert stats.sentences == len(expected)
    assert stats.tokens == sum(len(words) for words, _ in expected)


def test_read_conll_docstart_and_grouping(tmp_path, vocab):
    docs, stats = read_conll(write(tmp_path, CONLL), vocab)
    # Two documents, so two docs: sentences never join across -DOCSTART-.
    assert [[t.text for t in doc] for doc in docs] == [
        ["EU", "rejects", "German", "Peter", "Blackburn"],
        ["BRUSSELS"],
    ]
    assert [[s.text for s in doc.sents] for doc in docs] == [
        ["EU rejects German", "Peter Blackburn"],
        ["BRUSSELS"],
    ]
    assert ents_of(docs[0]) == [
        ("EU", "ORG"),
        ("German", "MISC"),
        ("Peter Blackburn", "PER"),
    ]
    assert stats.documents == 2
    assert stats.sentences == 3
    assert stats.tokens == 6
    assert stats.docs == 2


def test_read_conll_one_doc_per_sentence(tmp_path, vocab):
    docs, stats = read_conll(write(tmp_path, CONLL), vocab, n_sents=1)
    assert [len(doc) for doc in docs] == [3, 2, 1]
    assert stats.docs == 3


def test_read_conll_n_sents_splits_documents(tmp_path, vocab):
    sentences = "\n".join(f"w{i} X Y O\n" for i in range(5))
    docstart = "-DOCSTART- -X- -X- O\n\n"
    text = f"{docstart}{sentences}\n{docstart}last X Y O\n"
    docs, _ = read_conll(write(tmp_path, text), vocab, n_sents=2)
    words = [[t.text for t in doc] for doc in docs]
    assert words == [["w0", "w1"], ["w2", "w3"], ["w4"], ["last"]]
    assert all(doc[0].is_sent_start for doc in docs)


def test_read_conll_docstart_variants(tmp_path, vocab):
    text = "-DOCSTART-\na\tO\n-DOCSTART-\tO\n\nb\tO\n\n-DOCSTART- x y z\n"
    docs, stats = read_conll(write(tmp_path, text), vocab)
    assert [[t.text for t in doc] for doc in docs] == [["a"], ["b"]]
    assert stats.documents == 3
    assert stats.tokens == 2


@pytest.mark.parametrize(
    "docstart,columns",
    [
        ("-DOCSTART- -X- -X- O", "NNP B-NP"),  # CoNLL-2003 English
        ("-DOCSTART- -X- -X- -X- O", "x NNP B-NP"),  # CoNLL-2003 German
        ("-DOCSTART- -DOCSTART- O", "NNP"),  # CoNLL-2002 Dutch
        ("-DOCSTART-\tO", ""),  # two-column exports
        ("-DOCSTART-", ""),
    ],
    ids=["conll2003-en", "conll2003-de", "conll2002-nl", "two-columns", "bare"],
)
@pytest.mark.parametrize("line_end", ["\n", "\r\n"], ids=["lf", "crlf"])
def test_read_conll_published_docstart_forms(
    tmp_path, vocab, docstart, columns, line_end
):
    separator = "\t" if "\t" in docstart else " "
    middle = f"{separator.join(columns.split())}{separator}" if columns else ""

    def token(word, tag):
        return f"{word}{separator}{middle}{tag}"

    lines = [
        "\ufeff" + docstart, "", token("EU", "B-ORG"), token("rejects", "O"), "",
        token("Peter", "B-PER"), token("Blackburn", "I-PER"), "",
        docstart, "", token("BRUSSELS", "B-LOC"), "",
    ]  # fmt: skip
    docs, stats = read_conll(write(tmp_path, line_end.join(lines)), vocab)
    # A document boundary ends a doc even though n_sents (10) is not reached.
    assert [[t.text for t in doc] for doc in docs] == [
        ["EU", "rejects", "Peter", "Blackburn"],
        ["BRUSSELS"],
    ]
    assert [ents_of(doc) for doc in docs] == [
        [("EU", "ORG"), ("Peter Blackburn", "PER")],
        [("BRUSSELS", "LOC")],
    ]
    assert stats.documents == 2
    assert stats.sentences == 3
    assert stats.tokens == 5


@pytest.mark.parametrize("separator", ["\t", " "], ids=["tab", "space"])
@pytest.mark.parametrize("n_columns", [2, 3, 4, 5])
def test_read_conll_tag_is_last_column(tmp_path, vocab, separator, n_columns):
    # The columns between token and tag hold tags that look like entity tags,
    # so reading any column but the last gives other entities.
    middle = [f"B-X{i}" for i in range(n_columns - 2)]
    rows = [["Paris", *middle, "B-LOC"], ["is", *middle, "O"], ["big", *middle, "O"]]
    text = "".join(separator.join(row) + "\n" for row in rows)
    docs, stats = read_conll(write(tmp_path, text), vocab)
    assert [t.text for t in docs[0]] == ["Paris", "is", "big"]
    assert ents_of(docs[0]) == [("Paris", "LOC")]
    assert stats.tokens == 3


def test_read_conll_iob1_adjacent_entities(tmp_path, vocab):
    # In IOB1, B- marks only an entity that directly follows one of the same type.
    text = "Ann\tI-PER\nBob\tB-PER\nLee\tI-PER\nand\tO\nRome\tI-LOC\n"
    docs, stats = read_conll(write(tmp_path, text), vocab)
    assert ents_of(docs[0]) == [("Ann", "PER"), ("Bob Lee", "PER"), ("Rome", "LOC")]
    assert stats.converted == 2
    assert stats.repaired == 0


def test_read_conll_texts_ignore_n_sents(tmp_path, vocab):
    text = "a\tO\n\nb\tO\n\nc\tO\n"
    docs, _ = read_conll(write(tmp_path, text), vocab, n_sents=10)
    assert [len(doc) for doc in docs] == [1, 1, 1]


def test_read_conll_counts_repairs(tmp_path, vocab):
    text = "I\tI-PER\nAnn\tB-PER\nIBM\tI-ORG\nx\tO\ny\tI-LOC\nz\tI-ORG\n"
    _, stats = read_conll(write(tmp_path, text), vocab)
    # I-PER at the start and I-LOC after O are IOB1 entity starts. I-ORG after
    # B-PER and I-ORG after I-LOC have a label that differs from the open one.
    assert stats.converted == 2
    assert stats.repaired == 2
    assert stats.first_repaired_line == 3


def test_read_conll_warns_about_repairs(tmp_path, vocab, caplog):
    path = write(tmp_path, "Ann\tB-PER\nIBM\tI-ORG\n")
    with caplog.at_level(logging.WARNING, logger="spacy_nerloss"):
        read_conll(path, vocab)
    assert len(caplog.records) == 1
    assert str(path) in caplog.records[0].getMessage()
    assert "1 I- tags" in caplog.records[0].getMessage()


def test_read_conll_warn_false_is_silent(tmp_path, vocab, caplog):
    path = write(tmp_path, "Ann\tB-PER\nIBM\tI-ORG\n")
    with caplog.at_level(logging.WARNING, logger="spacy_nerloss"):
        read_conll(path, vocab, warn=False)
    assert caplog.records == []


@pytest.mark.parametrize(
    "text,pattern",
    [
        (
            "EU NNP B-NP B-ORG\nrejects VBZ O\n",
            r"data\.conll:2: expected 4 columns, as in line 1, but found 3 in "
            r"'rejects VBZ O'",
        ),
        ("a\tO\nb\tX\tO\n", r"data\.conll:2: expected 2 columns.*'b\\tX\\tO'"),
        ("a\tO\n\nb O\n", r"data\.conll:3: expected 2 columns.*found 1"),
        ("token\n", r"data\.conll:1: expected at least 2 columns"),
        ("a\tO\nb\tX-PER\n", r"data\.conll:2: invalid tag 'X-PER'"),
        ("a\tS-PER\n", r"data\.conll:1: invalid tag 'S-PER'"),
        ("a\tB-\n", r"data\.conll:1: invalid tag 'B-'"),
        ("a\to\n", r"data\.conll:1: invalid tag 'o'"),
        ("a\tO\n\ufeff\tO\n", r"data\.conll:2: empty token"),
    ],
    ids=[
        "fewer-columns",
        "more-columns",
        "space-in-tab-file",
        "one-column",
        "x-prefix",
        "s-prefix",
        "no-label",
        "lowercase-o",
        "empty-token",
    ],
)
def test_read_conll_rejects_invalid_lines(tmp_path, vocab, text, pattern):
    with pytest.raises(ValueError, match=pattern):
        read_conll(write(tmp_path, text), vocab)


def test_read_conll_rejects_invalid_utf8(tmp_path, vocab):
    path = tmp_path / "data.conll"
    path.write_bytes(b"a\tO\nb\xff\tO\n")
    with pytest.raises(ValueError, match=r"data\.conll:2: invalid UTF-8"):
        read_conll(path, vocab)


@pytest.mark.parametrize("n_sents", [0, -1])
def test_read_conll_rejects_invalid_n_sents(tmp_path, vocab, n_sents):
    with pytest.raises(ValueError, match="Invalid value for 'n_sents'"):
        read_conll(write(tmp_path, "a\tO\n"), vocab, n_sents=n_sents)


def test_read_conll_empty_file(tmp_path, vocab):
    docs, stats = read_conll(write(tmp_path, "\n\n"), vocab)
    assert docs == []
    assert stats.sentences == 0
    assert stats.tokens == 0
    assert stats.docs == 0


# The token counts exclude the separator lines. WNUT-17's train file separates
# 2,394 of its texts with a line holding only a tab, so it has 65,124 lines with
# a tab but 62,730 tokens, which is also the sum of its label counts.
@needs_data
@pytest.mark.parametrize(
    "name,texts,tokens",
    [
        ("train.conll", 3394, 62730),
        ("dev.conll", 1009, 15733),
        ("test.conll", 1287, 23394),
    ],
)
def test_read_conll_wnut17_counts(vocab, name, texts, tokens):
    docs, stats = read_conll(DATA_DIR / "wnut17" / name, vocab, warn=False)
    assert stats.sentences == texts
    assert stats.docs == texts
    assert stats.tokens == tokens
    assert sum(len(doc) for doc in docs) == tokens
    assert stats.documents == 0


@needs_data
def test_read_conll_wnut17_train_labels(vocab):
    docs, stats = read_conll(DATA_DIR / "wnut17" / "train.conll", vocab)
    # The published label counts of the WNUT-17 train split.
    expected = {
        "O": 59570, "B-person": 660, "B-location": 548, "I-person": 335,
        "B-group": 264, "I-location": 245, "B-corporation": 221,
        "I-creative-work": 206, "I-product": 203, "I-group": 150,
        "B-product": 142, "B-creative-work": 140, "I-corporation": 46,
    }  # fmt: skip
    tags = Counter(iob_tag(token) for doc in docs for token in doc)
    assert dict(tags) == expected
    assert stats.repaired == 0
    assert stats.converted == 0


@needs_data
def test_read_conll_wnut17_dev_quirks(vocab):
    docs, stats = read_conll(DATA_DIR / "wnut17" / "dev.conll", vocab, warn=False)
    words = {t.text for doc in docs for t in doc}
    assert "Dubbz" in words
    assert "watched\u200bwas" in words
    assert not any("\ufeff" in word for word in words)
    # "Sly-" I-person is followed by I-creative-work on line 1674.
    assert stats.repaired == 1
    assert stats.first_repaired_line == 1674


@needs_data
def test_read_conll_conll2003_train_counts(vocab):
    docs, stats = read_conll(DATA_DIR / "conll2003" / "train.txt", vocab, warn=False)
    assert stats.sentences == 14041
    assert stats.tokens == 203621
    assert stats.documents == 946
    assert sum(len(doc) for doc in docs) == 203621
    assert sum(len(list(doc.sents)) for doc in docs) == 14041
    tags = Counter(iob_tag(token) for doc in docs for token in doc)
    # The published label counts of the CoNLL-2003 train split. Its O count,
    # 170,524, includes the O column of the 946 -DOCSTART- lines, which are not
    # tokens.
    expected = {
        "O": 170524 - 946, "B-LOC": 7140, "B-PER": 6600, "B-ORG": 6321, "I-PER": 4528,
        "I-ORG": 3704, "B-MISC": 3438, "I-LOC": 1157, "I-MISC": 1155,
    }  # fmt: skip
    assert dict(tags) == expected


@needs_data
def test_read_conll_conll2003_valid_counts(vocab):
    path = DATA_DIR / "conll2003" / "valid.txt"
    _, stats = read_conll(path, vocab, n_sents=1, warn=False)
    assert stats.sentences == 3250
    assert stats.docs == 3250
