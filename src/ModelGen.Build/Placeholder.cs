namespace ModelGen.Build { class Placeholder {} }
