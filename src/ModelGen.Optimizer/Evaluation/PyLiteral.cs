using System.Globalization;
using System.Text;

namespace ModelGen.Optimizer.Evaluation;

/// <summary>
/// A parser for the tiny Python literal subset that a <c>.npy</c> header is written in: a dict with
/// string keys whose values are strings, booleans, integers, tuples or lists (of those), with
/// arbitrary whitespace and trailing commas. A real tokenizer instead of regular expressions, so
/// that spacing, quoting style and key order do not matter.
/// Values come back as <see cref="string"/>, <see cref="bool"/>, <see cref="long"/>,
/// <c>List&lt;object&gt;</c> (tuple or list; <see cref="Tuple"/> tells them apart) or
/// <c>Dictionary&lt;string, object&gt;</c>.
/// </summary>
internal sealed class PyLiteral
{
    private readonly string _text;
    private int _pos;

    private PyLiteral(string text) => _text = text;

    /// <summary>A parsed tuple: a list that was written with parentheses.</summary>
    internal sealed class Tuple : List<object>;

    /// <summary>Parses a whole dict literal; throws <see cref="FormatException"/> saying where it went wrong.</summary>
    public static Dictionary<string, object> ParseDict(string text)
    {
        var parser = new PyLiteral(text);
        parser.SkipSpace();
        if (parser.Peek() != '{') throw parser.Error("expected '{' at the start of the header");
        var dict = (Dictionary<string, object>)parser.Value();
        parser.SkipSpace();
        if (parser._pos != text.Length) throw parser.Error("unexpected text after the closing '}'");
        return dict;
    }

    private object Value()
    {
        SkipSpace();
        char c = Peek();
        switch (c)
        {
            case '{': return Dict();
            case '(': return Sequence(new Tuple(), ')');
            case '[': return Sequence(new List<object>(), ']');
            case '\'' or '"': return String();
        }
        if (c == '-' || c == '+' || char.IsAsciiDigit(c)) return Integer();
        if (char.IsAsciiLetter(c) || c == '_')
        {
            int start = _pos;
            while (_pos < _text.Length && (char.IsAsciiLetterOrDigit(_text[_pos]) || _text[_pos] == '_')) _pos++;
            string word = _text[start.._pos];
            // numpy writes no names other than True and False (and None only in structured dtypes, which are refused anyway).
            return word switch
            {
                "True" => true,
                "False" => false,
                _ => throw Error($"unexpected name '{word}'", start),
            };
        }
        throw Error(c == '\0' ? "the header ends too early" : $"unexpected character '{c}'");
    }

    private Dictionary<string, object> Dict()
    {
        _pos++; // '{'
        var dict = new Dictionary<string, object>(StringComparer.Ordinal);
        while (true)
        {
            SkipSpace();
            if (_pos >= _text.Length) throw Error("the header ends too early (no closing '}')");
            if (Peek() == '}')
            {
                _pos++;
                return dict;
            }
            int keyAt = _pos;
            if (Peek() is not ('\'' or '"')) throw Error("expected a quoted key");
            string key = String();
            SkipSpace();
            if (Peek() != ':') throw Error("expected ':' after a key");
            _pos++;
            object value = Value();
            if (!dict.TryAdd(key, value)) throw Error($"duplicate key '{key}'", keyAt);
            SkipSpace();
            if (Peek() == ',') _pos++;
            else if (Peek() != '}') throw Error("expected ',' or '}'");
        }
    }

    private List<object> Sequence(List<object> items, char close)
    {
        _pos++; // '(' or '['
        while (true)
        {
            SkipSpace();
            if (_pos >= _text.Length) throw Error($"the header ends too early (no closing '{close}')");
            if (Peek() == close)
            {
                _pos++;
                return items;
            }
            items.Add(Value());
            SkipSpace();
            if (Peek() == ',') _pos++;
            else if (Peek() != close) throw Error($"expected ',' or '{close}'");
        }
    }

    private string String()
    {
        char quote = _text[_pos++];
        var sb = new StringBuilder();
        while (true)
        {
            if (_pos >= _text.Length) throw Error("unterminated string");
            char c = _text[_pos++];
            if (c == quote) return sb.ToString();
            if (c == '\\')
            {
                if (_pos >= _text.Length) throw Error("unterminated string");
                c = _text[_pos++];
            }
            sb.Append(c);
        }
    }

    private long Integer()
    {
        int start = _pos;
        if (Peek() is '-' or '+') _pos++;
        while (_pos < _text.Length && char.IsAsciiDigit(_text[_pos])) _pos++;
        string digits = _text[start.._pos];
        if (!long.TryParse(digits, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long value))
        {
            throw Error($"bad integer '{digits}'", start);
        }
        if (Peek() is 'L' or 'l') _pos++; // Python 2 long suffix
        return value;
    }

    private void SkipSpace()
    {
        while (_pos < _text.Length && char.IsWhiteSpace(_text[_pos])) _pos++;
    }

    private char Peek() => _pos < _text.Length ? _text[_pos] : '\0';

    private FormatException Error(string what, int? at = null) =>
        new($"{what} at character {at ?? _pos} of the header {Quote(_text)}");

    private static string Quote(string text) => text.Length <= 200 ? $"\"{text.TrimEnd()}\"" : $"\"{text[..200]}…\"";
}
