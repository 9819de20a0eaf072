"""Research reports (HTML, PDF, DOCX, XLSX), charts and data exports."""
