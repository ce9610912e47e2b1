"""Evidence packs: the facts of a request or a purge run, as a PDF with the
same facts embedded as JSON, tied to the audit chain.

- `canonical`: the JSON document and its digest;
- `common`, `request_facts` (with `request_timeline` and `store_facts`),
  `purge_facts`: gathering the facts (reads only);
- `render`: the PDF (WeasyPrint, PDF/A-3b, `evidence.json` attached);
- `verify`: reading a pack back and checking it against the audit chain.
"""
