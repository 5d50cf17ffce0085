// `import text from "./x.sql" with { type: "text" }` gives the file's contents as a string,
// embedded by `bun build --compile`.
declare module "*.sql" {
  const text: string;
  export default text;
}
