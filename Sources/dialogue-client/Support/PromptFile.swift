import Foundation

/// Prompt files for `prompts import`: plain text (one prompt per line) or CSV with the
/// header `text,theme,source`. Any malformed line rejects the whole file.
enum PromptFile {
    struct Entry: Equatable {
        var line: Int
        var text: String
        var theme: String?
        var source: String?
    }

    static func parse(_ data: Data, csv: Bool, name: String) throws -> [Entry] {
        guard let content = String(data: data, encoding: .utf8) else {
            throw ClientError.data("\(name) is not UTF-8 text; nothing was imported")
        }
        return csv ? try parseCSV(content, name: name) : try parseText(content, name: name)
    }

    static func parseText(_ content: String, name: String) throws -> [Entry] {
        var entries: [Entry] = []
        for (index, raw) in content.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.hasSuffix("\r") ? raw.dropLast() : raw
            let text = line.trimmingCharacters(in: .whitespaces)
            if text.isEmpty { continue }
            if text.unicodeScalars.contains(where: { $0.properties.generalCategory == .control && $0 != "\t" }) {
                throw malformed(name, index + 1, "it contains a control character")
            }
            entries.append(Entry(line: index + 1, text: text))
        }
        return entries
    }

    static func parseCSV(_ content: String, name: String) throws -> [Entry] {
        let records = try csvRecords(content, name: name)
        guard let header = records.first else { throw ClientError.data("\(name) is empty; nothing was imported") }
        guard header.fields.map({ $0.trimmingCharacters(in: .whitespaces).lowercased() }) == ["text", "theme", "source"] else {
            throw malformed(name, header.line, "the header must be text,theme,source")
        }
        var entries: [Entry] = []
        for record in records.dropFirst() {
            if record.fields == [""] { continue }  // a blank line
            guard record.fields.count == 3 else {
                throw malformed(name, record.line, "expected 3 fields (text,theme,source), found \(record.fields.count)")
            }
            let text = record.fields[0].trimmingCharacters(in: .whitespaces)
            guard !text.isEmpty else { throw malformed(name, record.line, "the prompt text is empty") }
            let theme = record.fields[1].trimmingCharacters(in: .whitespaces)
            let source = record.fields[2].trimmingCharacters(in: .whitespaces)
            entries.append(Entry(line: record.line, text: text, theme: theme.isEmpty ? nil : theme, source: source.isEmpty ? nil : source))
        }
        return entries
    }

    /// RFC 4180 records with the line each starts on.
    static func csvRecords(_ content: String, name: String) throws -> [(line: Int, fields: [String])] {
        var records: [(line: Int, fields: [String])] = []
        var fields: [String] = []
        var field = ""
        var quoted = false
        var fieldStarted = false
        var afterQuote = false
        var line = 1
        var recordLine = 1
        var characters = Array(content)
        if characters.last != "\n" { characters.append("\n") }
        var index = 0
        while index < characters.count {
            let character = characters[index]
            if quoted {
                if character == "\"" {
                    if index + 1 < characters.count, characters[index + 1] == "\"" {
                        field.append("\"")
                        index += 1
                    } else {
                        quoted = false
                        afterQuote = true
                    }
                } else {
                    if character == "\n" || character == "\r\n" { line += 1 }
                    field.append(character)
                }
            } else if character == "\"" {
                guard !fieldStarted, field.isEmpty else { throw malformed(name, line, "a quote inside an unquoted field") }
                quoted = true
                fieldStarted = true
            } else if character == "," {
                fields.append(field)
                field = ""
                fieldStarted = false
                afterQuote = false
            } else if character == "\n" || character == "\r\n" || character == "\r" {
                fields.append(field)
                records.append((recordLine, fields))
                fields = []
                field = ""
                fieldStarted = false
                afterQuote = false
                line += 1
                recordLine = line
            } else {
                if afterQuote { throw malformed(name, line, "text after a closing quote") }
                field.append(character)
            }
            index += 1
        }
        if quoted { throw malformed(name, recordLine, "a quoted field is never closed") }
        // Drop the blank record produced by a trailing newline.
        if let last = records.last, last.fields == [""], records.count > 1 { records.removeLast() }
        return records
    }

    static func malformed(_ name: String, _ line: Int, _ reason: String) -> ClientError {
        ClientError.data("\(name):\(line): \(reason); nothing was imported")
    }
}
