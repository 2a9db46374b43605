using System.Text;

namespace ModelGen.Build
{
    /// <summary>Turns model file names into C# class names.</summary>
    public static class ClassNames
    {
        /// <summary>
        /// PascalCase from a file name without extension: every run of letters and digits
        /// becomes a word with an upper-case first letter; everything else separates words.
        /// <c>digits</c> → <c>Digits</c>, <c>my-model.v2</c> → <c>MyModelV2</c>,
        /// <c>resnet_50</c> → <c>Resnet50</c>. A name that would start with a digit gets a
        /// leading <c>Model</c> (<c>2layer</c> → <c>Model2layer</c>); an empty one is <c>Model</c>.
        /// </summary>
        public static string ToPascalCase(string? fileName)
        {
            var builder = new StringBuilder();
            var startOfWord = true;
            foreach (var c in fileName ?? string.Empty)
            {
                if (!char.IsLetterOrDigit(c))
                {
                    startOfWord = true;
                    continue;
                }

                builder.Append(startOfWord ? char.ToUpperInvariant(c) : c);
                startOfWord = false;
            }

            if (builder.Length == 0 || char.IsDigit(builder[0]))
            {
                builder.Insert(0, "Model");
            }

            return builder.ToString();
        }

        /// <summary>
        /// True when <paramref name="name"/> is a plain C# identifier (letters, digits,
        /// underscores, not starting with a digit). Keywords are not rejected: they cannot
        /// be PascalCase and a user-chosen one is caught by the compiler with a clear message.
        /// </summary>
        public static bool IsIdentifier(string? name)
        {
            if (string.IsNullOrEmpty(name) || char.IsDigit(name![0]))
            {
                return false;
            }

            foreach (var c in name)
            {
                if (!char.IsLetterOrDigit(c) && c != '_')
                {
                    return false;
                }
            }

            return true;
        }

        /// <summary>True for a dotted namespace of identifiers, e.g. <c>App.Models</c>.</summary>
        public static bool IsNamespace(string? name)
        {
            if (string.IsNullOrEmpty(name))
            {
                return false;
            }

            foreach (var part in name!.Split('.'))
            {
                if (!IsIdentifier(part))
                {
                    return false;
                }
            }

            return true;
        }
    }
}
