declare module "*.sql" {
  const text: string;
  export default text;
}
declare module "#scalar-standalone" {
  const path: string;
  export default path;
}
declare module "#swagger-ui-bundle" {
  const path: string;
  export default path;
}
declare module "#swagger-ui-css" {
  const path: string;
  export default path;
}
