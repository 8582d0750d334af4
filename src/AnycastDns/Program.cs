using AnycastDns.Commands;

namespace AnycastDns;

/// <summary>The <c>anycastdns</c> executable: one command line (<see cref="CommandTree"/>), serve by default.</summary>
public static class Program
{
    public static int Main(string[] args) => CommandTree.Run(args, Console.Out, Console.Error);
}
