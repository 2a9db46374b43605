return ModelGen.Cli.CliApp.Run(args, Console.Out, Console.Error);
