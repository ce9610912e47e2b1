"""The access package (GDPR Art. 15 and 20) that ends an access or
portability request: its pass over the stores' results (`scan`), the ZIP
(`build`), the JSON Schema of its data.json (`schema`), the letter as a PDF
(`letter_pdf`), its signed download link (`links`) and its reads
(`selectors`). Building, closing, announcing and purging it are
dsr.services.packages; downloading it dsr.services.package_downloads."""
